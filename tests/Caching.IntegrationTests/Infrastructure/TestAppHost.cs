using Caching.IntegrationTests.App;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Caching.IntegrationTests.Infrastructure;

/// <summary>The test app on Kestrel at 127.0.0.1 on a free port, with the embedded store or a real redis-server.</summary>
/// <summary>Where the test app keeps its entries.</summary>
public enum StoreKind
{
    Embedded,
    Redis,
    RedisCluster,
}

public sealed class TestAppHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly bool _ownsRedis;

    private TestAppHost(WebApplication app, HttpClient client, IRedisDeployment? redis, bool ownsRedis)
    {
        _app = app;
        Client = client;
        Redis = redis;
        _ownsRedis = ownsRedis;
    }

    public HttpClient Client { get; }

    public IRedisDeployment? Redis { get; }

    public IServiceProvider Services => _app.Services;

    public BlogStore Db => _app.Services.GetRequiredService<BlogStore>();

    public ICacheStore Store => _app.Services.GetRequiredService<ICacheStore>();

    /// <summary>Starts the app; a shared Redis deployment is flushed and reused, else one is started for the app.</summary>
    public static async Task<TestAppHost> StartAsync(StoreKind store, IRedisDeployment? shared = null, Action<WebApplication>? map = null, Action<CachingOptions>? configure = null, BlogStore? database = null, TimeProvider? time = null, Action<IServiceCollection>? services = null, Action<WebApplication>? pipeline = null, Microsoft.Extensions.Configuration.IConfigurationSource? configuration = null)
    {
        if (shared is not null)
        {
            await shared.FlushAsync();
        }

        IRedisDeployment? redis = shared ?? store switch
        {
            StoreKind.Redis => await RedisServer.StartAsync(),
            StoreKind.RedisCluster => await RedisCluster.StartAsync(),
            _ => null,
        };
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (configuration is not null)
        {
            ((Microsoft.Extensions.Configuration.IConfigurationBuilder)builder.Configuration).Add(configuration);
        }

        builder.Services.AddSingleton(database ?? new BlogStore());
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddScoped<ScopedProbe>();
        builder.Services.AddControllers().AddApplicationPart(typeof(TestAppHost).Assembly);
        builder.Services.AddAttributeCaching(o =>
        {
            o.AddCacheStatusHeader = true;
            if (redis is not null)
            {
                o.UseRedis(redis.ConnectionString);
            }

            configure?.Invoke(o);
        });

        services?.Invoke(builder.Services);
        WebApplication app = builder.Build();
        pipeline?.Invoke(app);
        app.UseAttributeCaching();
        (map ?? TestEndpoints.Map)(app);
        app.MapControllers();
        await app.StartAsync();
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return new TestAppHost(app, client, redis, ownsRedis: shared is null);
    }

    /// <summary>Every key in the store, by a full scan.</summary>
    public async Task<HashSet<string>> AllKeysAsync()
    {
        if (Redis is not null)
        {
            // Without the per-slot indexes of stored keys: bookkeeping that tests counting keys do not mean.
            HashSet<string> keys = await Redis.AllKeysAsync();
            keys.RemoveWhere(static k => k.StartsWith("caching:keys:{", StringComparison.Ordinal));
            return keys;
        }

        return ((InMemoryCacheStore)Store).LiveKeys().ToHashSet(StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (Redis is not null && _ownsRedis)
        {
            await Redis.DisposeAsync();
        }
    }
}
