using Caching.Diagnostics;
using Caching.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Caching.Hosting;

/// <summary>Chooses the store from the options: Redis when configured, else the in-process store.</summary>
internal static class CacheStoreFactory
{
    // Command and connect timeout of the connection the store opens itself (StackExchange.Redis defaults to 5 s).
    private const int DefaultTimeoutMilliseconds = 1000;

    private static ICacheStore WithLocalLevel(IServiceProvider services, RedisCacheStore redis)
    {
        IOptions<CachingOptions> options = services.GetRequiredService<IOptions<CachingOptions>>();
        if (!options.Value.LocalCache)
        {
            return redis;
        }

        var local = new InMemoryCacheStore(options, services.GetRequiredService<TimeProvider>());
        return new TwoLevelCacheStore(redis, local, options.Value.LocalCacheExpiration, services.GetRequiredService<ILogger<TwoLevelCacheStore>>());
    }

    public static ICacheStore Create(IServiceProvider services)
    {
        IOptions<CachingOptions> options = services.GetRequiredService<IOptions<CachingOptions>>();
        TimeProvider time = services.GetRequiredService<TimeProvider>();
        ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Caching");
        if (!options.Value.UsesRedis)
        {
            Log.StoreSelected(logger, "in-process");
            return new InMemoryCacheStore(options, time);
        }

        ILogger<RedisCacheStore> storeLogger = services.GetRequiredService<ILogger<RedisCacheStore>>();
        IConnectionMultiplexer? registered = services.GetService<IConnectionMultiplexer>();
        if (registered is not null)
        {
            Log.ReusingRegisteredConnection(logger);
            Log.StoreSelected(logger, options.Value.LocalCache ? "Redis with a local level" : "Redis");
            return WithLocalLevel(services, new RedisCacheStore(registered, ownsConnection: false, options, time, storeLogger));
        }

        ConfigurationOptions configuration = ConfigurationOptions.Parse(options.Value.Redis!);

        // Start even when Redis is down; commands fail (and are retried by the connection) until it is back.
        configuration.AbortOnConnectFail = false;

        // While disconnected, commands fail at once instead of queueing until a timeout: the request goes on
        // without the cache (and the circuit breaker soon stops calling).
        configuration.BacklogPolicy = BacklogPolicy.FailFast;

        // A cache call must never take seconds: unless the connection string says otherwise, a command that gets
        // no answer within a second fails (and counts against its node's breaker), and so does a connection attempt.
        string[] named = options.Value.Redis!.Split(',').Select(static p => p.Split('=')[0].Trim()).ToArray();
        if (!named.Contains("syncTimeout", StringComparer.OrdinalIgnoreCase))
        {
            configuration.SyncTimeout = DefaultTimeoutMilliseconds;
        }

        if (!named.Contains("asyncTimeout", StringComparer.OrdinalIgnoreCase))
        {
            configuration.AsyncTimeout = DefaultTimeoutMilliseconds;
        }

        if (!named.Contains("connectTimeout", StringComparer.OrdinalIgnoreCase))
        {
            configuration.ConnectTimeout = DefaultTimeoutMilliseconds;
        }
        IConnectionMultiplexer connection = ConnectionMultiplexer.Connect(configuration);
        Log.StoreSelected(logger, options.Value.LocalCache ? "Redis with a local level" : "Redis");
        return WithLocalLevel(services, new RedisCacheStore(connection, ownsConnection: true, options, time, storeLogger));
    }
}
