using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.Runtime.Tests.Engine;

/// <summary>
/// <see cref="CachingOptions.Enabled"/> switched in configuration at run time: reads and stores stop at once, writes
/// keep invalidating, and switching back on never serves a value that changed meanwhile. On every store.
/// </summary>
public abstract class CachingSwitchTests : IAsyncLifetime
{
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);

    protected SwitchableConfiguration Configuration { get; } = new();

    protected StoreHarness H { get; private set; } = null!;

    private ICache Cache => H.Cache;

    public async Task InitializeAsync()
        => H = await CreateHarnessAsync(services => services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Add(Configuration).Build()));

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync(Action<IServiceCollection> register);

    private static Func<CancellationToken, ValueTask<string>> Returns(string value, Action? counted = null)
        => _ =>
        {
            counted?.Invoke();
            return ValueTask.FromResult(value);
        };

    [Fact]
    public async Task Switched_off_reads_miss_and_store_nothing_and_switched_on_the_stored_value_serves_again()
    {
        int calls = 0;
        Assert.Equal("v1", await Cache.GetOrCreateAsync("doc:1", Returns("v1", () => calls++)));

        Configuration.SetCachingEnabled(false);
        Assert.False(H.Engine.IsEnabled);
        Assert.Equal("v2", await Cache.GetOrCreateAsync("doc:1", Returns("v2", () => calls++)));
        Assert.Equal("v3", await Cache.GetOrCreateAsync("doc:2", Returns("v3", () => calls++)));
        Assert.False((await Cache.TryGetAsync<string>("doc:1")).Found);
        Assert.Equal(3, calls);
        Assert.Null(await H.Store.GetAsync("doc:2")); // nothing stored while off

        Configuration.SetCachingEnabled(true);
        Assert.True(H.Engine.IsEnabled);
        Assert.Equal("v1", await Cache.GetOrCreateAsync("doc:1", Returns("v4", () => calls++))); // untouched meanwhile
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task Invalidations_made_while_off_hold_when_switched_back_on()
    {
        var tagged = new CacheEntryOptions { Tags = ["docs"] };
        var spaced = new CacheEntryOptions { Namespace = "user:1" };
        await Cache.SetAsync("doc:key", "old", null);
        await Cache.SetAsync("doc:tagged", "old", tagged);
        await Cache.SetAsync("doc:pattern:1", "old", null);
        await Cache.SetAsync("doc:spaced", "old", spaced);

        Configuration.SetCachingEnabled(false);
        await Cache.InvalidateKeysAsync(["doc:key"]);
        await Cache.InvalidateTagAsync("docs");
        await Cache.InvalidatePatternAsync("doc:pattern:*");
        await Cache.InvalidateNamespaceAsync("user:1");
        Configuration.SetCachingEnabled(true);

        Assert.Equal("new", await Cache.GetOrCreateAsync("doc:key", Returns("new")));
        Assert.Equal("new", await Cache.GetOrCreateAsync("doc:tagged", Returns("new"), tagged));
        Assert.Equal("new", await Cache.GetOrCreateAsync("doc:pattern:1", Returns("new")));
        Assert.Equal("new", await Cache.GetOrCreateAsync("doc:spaced", Returns("new"), spaced));
    }

    [Fact]
    public async Task A_write_through_while_off_stores_nothing_and_deletes_the_old_copy()
    {
        await Cache.SetAsync("doc:3", "old");

        Configuration.SetCachingEnabled(false);
        await Cache.SetAsync("doc:3", "new");
        Assert.Null(await H.Store.GetAsync("doc:3"));

        Configuration.SetCachingEnabled(true);
        Assert.False((await Cache.TryGetAsync<string>("doc:3")).Found);
    }

    [Fact]
    public async Task Switched_off_concurrent_misses_each_run_their_factory()
    {
        Configuration.SetCachingEnabled(false);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bothIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0;
        async ValueTask<string> Slow(CancellationToken _)
        {
            if (Interlocked.Increment(ref running) == 2)
            {
                bothIn.SetResult();
            }

            await gate.Task.WaitAsync(GateTimeout);
            return "v";
        }

        Task<string> first = Cache.GetOrCreateAsync("doc:4", Slow).AsTask();
        Task<string> second = Cache.GetOrCreateAsync("doc:4", Slow).AsTask();

        // With caching on, the second call would follow the first (single flight) and never enter the factory.
        await bothIn.Task.WaitAsync(GateTimeout);
        gate.SetResult();
        Assert.Equal(["v", "v"], await Task.WhenAll(first, second));
        Assert.Null(await H.Store.GetAsync("doc:4"));
    }

    [Fact]
    public async Task A_load_running_when_the_cache_is_switched_off_does_not_store()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Slow(CancellationToken _)
        {
            started.SetResult();
            await gate.Task.WaitAsync(GateTimeout);
            return "loaded while switching off";
        }

        Task<string> load = Cache.GetOrCreateAsync("doc:5", Slow).AsTask();
        await started.Task.WaitAsync(GateTimeout);
        Configuration.SetCachingEnabled(false);
        gate.SetResult();
        Assert.Equal("loaded while switching off", await load);

        Configuration.SetCachingEnabled(true);
        Assert.False((await Cache.TryGetAsync<string>("doc:5")).Found);
        Assert.Equal("fresh", await Cache.GetOrCreateAsync("doc:5", Returns("fresh"))); // no lease left behind
    }
}

public sealed class InMemoryCachingSwitchTests : CachingSwitchTests
{
    protected override Task<StoreHarness> CreateHarnessAsync(Action<IServiceCollection> register) => Task.FromResult<StoreHarness>(InMemoryHarness.Create(register: register));

    [Fact]
    public async Task Without_configuration_the_switch_follows_the_code_options()
    {
        await using InMemoryHarness off = InMemoryHarness.Create(o => o.Enabled = false);
        Assert.False(off.Engine.IsEnabled);
    }
}

[Collection("redis")]
public sealed class RedisCachingSwitchTests(RedisFixture redis) : CachingSwitchTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync(Action<IServiceCollection> register) => await RedisHarness.CreateAsync(redis.Server, register: register);
}

[Collection("redis")]
public sealed class TwoLevelCachingSwitchTests(RedisFixture redis) : CachingSwitchTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync(Action<IServiceCollection> register) => await RedisHarness.CreateAsync(redis.Server, o => o.LocalCache = true, register);
}

[Collection("redis-cluster")]
public sealed class RedisClusterCachingSwitchTests(RedisClusterFixture cluster) : CachingSwitchTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync(Action<IServiceCollection> register) => await RedisHarness.CreateAsync(cluster.Cluster, register: register);
}
