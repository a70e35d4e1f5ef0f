using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

// dotnet run -c Release --project benchmarks/Caching.Benchmarks.Hybrid -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(HybridHitBenchmarks).Assembly).Run(args);

/// <summary>The cached value: a small report, as an app would cache it (a plain record, no immutability marker).</summary>
public sealed record Report(int Id, string Name, int[] Values);

/// <summary>Where the caches keep their entries.</summary>
public enum Store
{
    /// <summary>In process: our in-process store; Microsoft's and FusionCache's memory level alone.</summary>
    InProcess,

    /// <summary>
    /// A redis-server on loopback: ours on Redis alone (every hit a round trip) and in two-level mode; Microsoft's and
    /// FusionCache's memory level over Redis as their distributed level.
    /// </summary>
    Redis,
}

/// <summary>
/// One hit of <c>HybridCache.GetOrCreateAsync</c> (the key holds the value; the factory never runs), through the same
/// abstract call for every implementation: ours (<c>AddAttributeCaching</c>), Microsoft's (<c>AddHybridCache</c>) and
/// FusionCache's HybridCache adapter (<c>AddFusionCache().AsHybridCache()</c>), plus FusionCache's own API.
/// </summary>
[MemoryDiagnoser]
public class HybridHitBenchmarks
{
    private const string Key = "report:1";
    private static readonly Report Value = new(1, "top authors", Enumerable.Range(1, 10).ToArray());
    private static readonly HybridCacheEntryOptions Entry = new() { Expiration = TimeSpan.FromHours(1), LocalCacheExpiration = TimeSpan.FromHours(1) };
    private static readonly FusionCacheEntryOptions FusionEntry = new() { Duration = TimeSpan.FromHours(1) };

    private RedisServer? _redis;
    private ServiceProvider _ours = null!;
    private ServiceProvider _oursTwoLevel = null!;
    private ServiceProvider _microsofts = null!;
    private ServiceProvider _fusion = null!;
    private HybridCache _oursCache = null!;
    private HybridCache _oursTwoLevelCache = null!;
    private HybridCache _microsoftsCache = null!;
    private HybridCache _fusionHybrid = null!;
    private IFusionCache _fusionCache = null!;

    [Params(Store.InProcess, Store.Redis)]
    public Store Where { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        string? redis = null;
        if (Where == Store.Redis)
        {
            _redis = await RedisServer.StartAsync();
            redis = _redis.ConnectionString;
        }

        _ours = Build(s => s.AddAttributeCaching(o => { if (redis is not null) { o.UseRedis(redis); } }));
        _oursTwoLevel = Build(s => s.AddAttributeCaching(o => { if (redis is not null) { o.UseRedis(redis); o.LocalCache = true; o.LocalCacheExpiration = TimeSpan.FromHours(1); } }));
        _microsofts = Build(s =>
        {
            if (redis is not null)
            {
                s.AddStackExchangeRedisCache(o => o.Configuration = redis);
            }

            s.AddHybridCache();
        });
        _fusion = Build(s =>
        {
            IFusionCacheBuilder fusion = s.AddFusionCache().WithDefaultEntryOptions(FusionEntry).WithSerializer(new FusionCacheSystemTextJsonSerializer());
            if (redis is not null)
            {
                fusion.WithDistributedCache(new RedisCache(new RedisCacheOptions { Configuration = redis }));
            }

            fusion.AsHybridCache();
        });

        _oursCache = _ours.GetRequiredService<HybridCache>();
        _oursTwoLevelCache = _oursTwoLevel.GetRequiredService<HybridCache>();
        _microsoftsCache = _microsofts.GetRequiredService<HybridCache>();
        _fusionHybrid = _fusion.GetRequiredService<HybridCache>();
        _fusionCache = _fusion.GetRequiredService<IFusionCache>();

        // Fill every cache, and check each one hits from now on (a factory run would throw).
        foreach (HybridCache cache in new[] { _oursCache, _oursTwoLevelCache, _microsoftsCache, _fusionHybrid })
        {
            await cache.GetOrCreateAsync(Key, Value, static (v, _) => ValueTask.FromResult(v), Entry);
            await cache.GetOrCreateAsync<Report, Report>(Key, Value, static (_, _) => throw new InvalidOperationException("a hit was expected"), Entry);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (ServiceProvider provider in new[] { _ours, _oursTwoLevel, _microsofts, _fusion })
        {
            await provider.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    [Benchmark(Baseline = true, Description = "ours (AddAttributeCaching)")]
    public ValueTask<Report> Ours() => Hit(_oursCache);

    [Benchmark(Description = "ours, two-level mode")]
    public ValueTask<Report> OursTwoLevel() => Hit(_oursTwoLevelCache);

    [Benchmark(Description = "Microsoft HybridCache")]
    public ValueTask<Report> Microsofts() => Hit(_microsoftsCache);

    [Benchmark(Description = "FusionCache as HybridCache")]
    public ValueTask<Report> FusionAsHybrid() => Hit(_fusionHybrid);

    [Benchmark(Description = "FusionCache GetOrSetAsync")]
    public ValueTask<Report> FusionNative() => _fusionCache.GetOrSetAsync<Report>(Key, static (_, _) => Task.FromResult(Value), FusionEntry);

    private static ValueTask<Report> Hit(HybridCache cache) => cache.GetOrCreateAsync(Key, Value, static (v, _) => ValueTask.FromResult(v), Entry);

    private static ServiceProvider Build(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        register(services);
        return services.BuildServiceProvider();
    }
}
