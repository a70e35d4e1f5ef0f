using Caching.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Caching.Runtime.Tests.Infrastructure;

/// <summary>A store wired up through <c>AddAttributeCaching</c>, plus what the contract tests need to observe it.</summary>
public abstract class StoreHarness : IAsyncDisposable
{
    protected StoreHarness(ServiceProvider services)
    {
        Services = services;
    }

    public ServiceProvider Services { get; }

    public ICacheStore Store => Services.GetRequiredService<ICacheStore>();

    public ICache Cache => Services.GetRequiredService<ICache>();

    public CacheEngine Engine => Services.GetRequiredService<CacheEngine>();

    /// <summary>A time to live short enough to wait out in a test.</summary>
    public abstract TimeSpan ShortTtl { get; }

    /// <summary>Lets <paramref name="duration"/> pass: fake time for the in-process store, real time for Redis.</summary>
    public abstract Task AdvanceAsync(TimeSpan duration);

    /// <summary>Every key the store holds (internal ones included), read by a full scan.</summary>
    public abstract Task<HashSet<string>> AllKeysAsync();

    /// <summary>Stores many entries fast (pipelined on Redis).</summary>
    public abstract Task FillAsync(IReadOnlyList<string> keys, byte[] value, TimeSpan ttl);

    public virtual async ValueTask DisposeAsync() => await Services.DisposeAsync();

    protected static ServiceProvider Build(Action<IServiceCollection> register, Action<CachingOptions>? configure)
    {
        var services = new ServiceCollection();
        register(services);
        services.AddAttributeCaching(configure);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}

public sealed class InMemoryHarness : StoreHarness
{
    private InMemoryHarness(ServiceProvider services, FakeTimeProvider time)
        : base(services)
    {
        Time = time;
    }

    public FakeTimeProvider Time { get; }

    public InMemoryCacheStore MemoryStore => (InMemoryCacheStore)Store;

    public override TimeSpan ShortTtl => TimeSpan.FromMinutes(1);

    public static InMemoryHarness Create(Action<CachingOptions>? configure = null, Action<IServiceCollection>? register = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        ServiceProvider services = Build(
            s =>
            {
                s.AddSingleton<TimeProvider>(time);
                register?.Invoke(s);
            },
            configure);
        return new InMemoryHarness(services, time);
    }

    public override Task AdvanceAsync(TimeSpan duration)
    {
        Time.Advance(duration);
        return Task.CompletedTask;
    }

    public override Task<HashSet<string>> AllKeysAsync() => Task.FromResult(MemoryStore.LiveKeys().ToHashSet(StringComparer.Ordinal));

    public override async Task FillAsync(IReadOnlyList<string> keys, byte[] value, TimeSpan ttl)
    {
        foreach (string key in keys)
        {
            await Store.SetAsync(key, value, ttl);
        }
    }
}

public sealed class RedisHarness : StoreHarness
{
    private readonly IRedisDeployment _server;

    private RedisHarness(ServiceProvider services, IRedisDeployment server)
        : base(services)
    {
        _server = server;
    }

    public IRedisDeployment Server => _server;

    public override TimeSpan ShortTtl => TimeSpan.FromMilliseconds(400);

    public static async Task<RedisHarness> CreateAsync(IRedisDeployment server, Action<CachingOptions>? configure = null, Action<IServiceCollection>? register = null, bool flush = true)
    {
        if (flush)
        {
            await server.FlushAsync();
        }

        ConnectionMultiplexer client = await ConnectionMultiplexer.ConnectAsync(server.ClientConfiguration());
        ServiceProvider services = Build(
            s =>
            {
                s.AddSingleton<IConnectionMultiplexer>(client);
                register?.Invoke(s);
            },
            o =>
            {
                o.UseRedis();
                configure?.Invoke(o);
            });
        return new RedisHarness(services, server);
    }

    public override Task AdvanceAsync(TimeSpan duration) => Task.Delay(duration);

    // The per-slot indexes of stored keys (caching:keys:{…}) are left out: bookkeeping every store adds, which
    // tests that count keys do not mean.
    public override async Task<HashSet<string>> AllKeysAsync()
    {
        HashSet<string> keys = await _server.AllKeysAsync();
        keys.RemoveWhere(static k => k.StartsWith(StoredKeysIndexPrefix, StringComparison.Ordinal));
        return keys;
    }

    /// <summary>The prefix of the store's per-slot indexes of stored keys.</summary>
    public const string StoredKeysIndexPrefix = "caching:keys:{";

    public override async Task FillAsync(IReadOnlyList<string> keys, byte[] value, TimeSpan ttl)
    {
        IDatabase db = _server.Connection.GetDatabase();
        foreach (string[] chunk in keys.Chunk(10_000))
        {
            await Task.WhenAll(chunk.Select(k => db.StringSetAsync(k, value, ttl)));
        }
    }

    public override async ValueTask DisposeAsync()
    {
        var client = Services.GetRequiredService<IConnectionMultiplexer>();
        await base.DisposeAsync();
        await client.DisposeAsync();
    }
}
