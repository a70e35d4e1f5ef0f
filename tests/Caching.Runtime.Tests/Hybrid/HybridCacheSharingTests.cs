using Caching.Runtime.Tests.Engine;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Keys;
using Caching.Stores;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Caching.Runtime.Tests.Hybrid;

/// <summary>
/// What only our HybridCache does: its entries are the engine's entries, shared with <see cref="ICache"/> and
/// endpoints, under the same invalidations and the same protection against stale sets; run on every store.
/// </summary>
public abstract class HybridCacheSharingTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    protected StoreHarness H { get; private set; } = null!;

    protected HybridCache Hybrid => H.Services.GetRequiredService<HybridCache>();

    public async Task InitializeAsync() => H = await CreateHarnessAsync();

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync();

    /// <summary>Whether the store is HybridCache's local level (the in-process store) rather than its distributed one.</summary>
    protected abstract bool StoreIsLocalLevel { get; }

    private static Func<CancellationToken, ValueTask<T>> Counting<T>(Box<int> calls, T value)
        => _ =>
        {
            Interlocked.Increment(ref calls.Value);
            return ValueTask.FromResult(value);
        };

    [Fact]
    public async Task An_entry_of_another_shape_is_treated_as_missing_and_replaced()
    {
        await H.Cache.SetAsync("report:shape", "a string, not a report");
        var calls = new Box<int>();

        Report read = await Hybrid.GetOrCreateAsync("report:shape", Counting(calls, new Report { Name = "fresh", Version = 2 }));
        Report again = await Hybrid.GetOrCreateAsync("report:shape", Counting(calls, new Report { Name = "unused", Version = 3 }));

        Assert.Equal(("fresh", 2), (read.Name, read.Version));
        Assert.Equal(("fresh", 2), (again.Name, again.Version)); // the replacement was stored
        Assert.Equal(1, calls.Value);
    }

    [Fact]
    public void AddAttributeCaching_registers_our_HybridCache()
        => Assert.Equal("EngineHybridCache", Hybrid.GetType().Name);

    [Fact]
    public async Task A_value_set_through_ICache_is_read_through_HybridCache_and_back()
    {
        var calls = new Box<int>();
        var post = new Post(5, "Hello", ["a"]);
        await H.Cache.SetAsync("post:5", post);
        await Hybrid.SetAsync("note:1", "plain text");

        Post read = await Hybrid.GetOrCreateAsync("post:5", Counting(calls, new Post(0, "loaded", [])));
        string text = await H.Cache.GetOrCreateAsync("note:1", Counting(calls, "loaded"));

        Assert.Equal(0, calls.Value);
        Assert.Equal(post.Title, read.Title);
        Assert.Equal("plain text", text);
        Assert.Equal("\"plain text\"", System.Text.Encoding.UTF8.GetString((await H.Store.GetAsync("note:1"))!));
    }

    [Fact]
    public async Task ICache_key_tag_and_pattern_invalidations_remove_HybridCache_entries()
    {
        var calls = new Box<int>();
        await Hybrid.GetOrCreateAsync("report:1", Counting(calls, 1));
        await Hybrid.GetOrCreateAsync("authors:top", Counting(calls, 2), tags: ["authors"]);
        await Hybrid.GetOrCreateAsync(CacheKey.Format($"user_{7}_posts:{1}"), Counting(calls, 3));
        await Hybrid.GetOrCreateAsync("report:2", Counting(calls, 4));

        Assert.Equal(1, await H.Cache.InvalidateKeysAsync(["report:1"]));
        Assert.Equal(1, await H.Cache.InvalidateTagAsync("authors"));
        Assert.Equal(1, await H.Cache.InvalidatePatternAsync(CachePattern.Format($"user_{7}_posts:*")));

        Assert.Equal(10, await Hybrid.GetOrCreateAsync("report:1", Counting(calls, 10)));
        Assert.Equal(20, await Hybrid.GetOrCreateAsync("authors:top", Counting(calls, 20), tags: ["authors"]));
        Assert.Equal(30, await Hybrid.GetOrCreateAsync(CacheKey.Format($"user_{7}_posts:{1}"), Counting(calls, 30)));
        Assert.Equal(4, await Hybrid.GetOrCreateAsync("report:2", Counting(calls, 40)));
        Assert.Equal(4 + 3, calls.Value);
    }

    [Fact]
    public async Task The_entry_is_stored_with_its_expiration_and_filed_under_its_tags()
    {
        await Hybrid.SetAsync("report:ttl", 1, new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(90) }, ["reports"]);

        TimeSpan? ttl = await H.Store.GetTimeToLiveAsync("report:ttl");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(85), TimeSpan.FromSeconds(90));
        Assert.Equal(1, await H.Cache.InvalidateTagAsync("reports"));
    }

    [Fact]
    public async Task An_invalidation_while_the_factory_runs_keeps_its_value_out_of_the_cache()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> loading = Hybrid.GetOrCreateAsync(
            "report:race",
            async _ =>
            {
                entered.SetResult();
                await release.Task;
                return "read before the write";
            }).AsTask();
        await entered.Task.WaitAsync(Wait);

        await H.Cache.InvalidateKeysAsync(["report:race"]); // the write that changed the data
        release.SetResult();

        Assert.Equal("read before the write", await loading.WaitAsync(Wait));
        Assert.Null(await H.Store.GetAsync("report:race"));
        Assert.Equal("fresh", await Hybrid.GetOrCreateAsync("report:race", _ => ValueTask.FromResult("fresh")));
    }

    [Fact]
    public async Task RemoveByTagAsync_star_removes_every_application_entry_but_no_internal_key()
    {
        await Hybrid.SetAsync("report:1", 1, tags: ["reports"]);
        await H.Cache.SetAsync("post:1", 1);
        await H.Cache.SetAsync("profile:1", 1, new CacheEntryOptions { Namespace = "user:1" });
        string? version = await H.Store.GetNamespaceVersionAsync("user:1");
        Assert.NotNull(version);

        await Hybrid.RemoveByTagAsync("*");

        Assert.DoesNotContain(await H.AllKeysAsync(), k => !IsInternal(k));
        Assert.Equal(version, await H.Store.GetNamespaceVersionAsync("user:1"));
    }

    [Fact]
    public async Task Entry_tags_are_validated_as_the_engine_validates_them()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await Hybrid.SetAsync("report:1", 1, tags: [""]));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Hybrid.SetAsync("report:1", 1, tags: ["*"]));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Hybrid.GetOrCreateAsync("caching:own", _ => ValueTask.FromResult(1)));
        Assert.Null(await H.Store.GetAsync("report:1"));
    }

    [Fact]
    public async Task The_write_flag_of_the_stores_level_disables_writes_and_the_other_levels_is_ignored()
    {
        HybridCacheEntryFlags own = StoreIsLocalLevel ? HybridCacheEntryFlags.DisableLocalCacheWrite : HybridCacheEntryFlags.DisableDistributedCacheWrite;
        HybridCacheEntryFlags other = StoreIsLocalLevel ? HybridCacheEntryFlags.DisableDistributedCacheWrite : HybridCacheEntryFlags.DisableLocalCacheWrite;

        await Hybrid.GetOrCreateAsync("report:own", _ => ValueTask.FromResult(1), new HybridCacheEntryOptions { Flags = own });
        await Hybrid.GetOrCreateAsync("report:other", _ => ValueTask.FromResult(2), new HybridCacheEntryOptions { Flags = other | HybridCacheEntryFlags.DisableCompression });
        await Hybrid.SetAsync("report:set-own", 3, new HybridCacheEntryOptions { Flags = own });

        Assert.Null(await H.Store.GetAsync("report:own"));
        Assert.NotNull(await H.Store.GetAsync("report:other"));
        Assert.Null(await H.Store.GetAsync("report:set-own"));
    }

    [Fact]
    public async Task Setting_null_removes_the_entry()
    {
        await Hybrid.SetAsync<string?>("report:null", "v");
        await Hybrid.SetAsync<string?>("report:null", null);

        Assert.Null(await H.Store.GetAsync("report:null"));
    }

    private static bool IsInternal(string key) => key.StartsWith("caching:", StringComparison.Ordinal);
}

public sealed class InMemoryHybridCacheSharingTests : HybridCacheSharingTests
{
    protected override bool StoreIsLocalLevel => true;

    protected override Task<StoreHarness> CreateHarnessAsync() => Task.FromResult<StoreHarness>(InMemoryHarness.Create());
}

[Collection("redis")]
public sealed class RedisHybridCacheSharingTests(RedisFixture redis) : HybridCacheSharingTests
{
    protected override bool StoreIsLocalLevel => false;

    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server);
}

[Collection("redis")]
public sealed class TwoLevelHybridCacheSharingTests(RedisFixture redis) : HybridCacheSharingTests
{
    protected override bool StoreIsLocalLevel => false;

    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server, o => o.LocalCache = true);

    [Fact]
    public async Task One_instances_RemoveAsync_removes_the_other_instances_local_copy()
    {
        await using RedisHarness other = await RedisHarness.CreateAsync(((RedisHarness)H).Server, o => o.LocalCache = true, flush: false);
        HybridCache otherHybrid = other.Services.GetRequiredService<HybridCache>();
        var local = ((TwoLevelCacheStore)other.Store).Local;
        Assert.Equal("v1", await otherHybrid.GetOrCreateAsync("report:shared", _ => ValueTask.FromResult("v1")));
        Assert.NotNull(await local.GetAsync("report:shared"));

        await Hybrid.RemoveAsync("report:shared");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await local.GetAsync("report:shared") is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Null(await local.GetAsync("report:shared"));
        Assert.Equal("v2", await otherHybrid.GetOrCreateAsync("report:shared", _ => ValueTask.FromResult("v2")));
    }

    [Fact]
    public async Task One_instances_RemoveByTagAsync_star_removes_the_other_instances_local_copies()
    {
        await using RedisHarness other = await RedisHarness.CreateAsync(((RedisHarness)H).Server, o => o.LocalCache = true, flush: false);
        HybridCache otherHybrid = other.Services.GetRequiredService<HybridCache>();
        var local = ((TwoLevelCacheStore)other.Store).Local;
        await otherHybrid.GetOrCreateAsync("report:all", _ => ValueTask.FromResult("v1"));
        Assert.NotNull(await local.GetAsync("report:all"));

        await Hybrid.RemoveByTagAsync("*");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await local.GetAsync("report:all") is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal("v2", await otherHybrid.GetOrCreateAsync("report:all", _ => ValueTask.FromResult("v2")));
    }
}

[Collection("redis-cluster")]
public sealed class ClusterHybridCacheSharingTests(RedisClusterFixture cluster) : HybridCacheSharingTests
{
    protected override bool StoreIsLocalLevel => false;

    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(cluster.Cluster);
}

/// <summary>Which HybridCache an application gets, in each registration order.</summary>
public sealed class HybridCacheRegistrationTests
{
    [Fact]
    public void AddHybridCache_before_AddAttributeCaching_keeps_Microsofts()
    {
        using ServiceProvider services = new ServiceCollection().AddHybridCache().Services.AddAttributeCaching().BuildServiceProvider();

        Assert.NotEqual("EngineHybridCache", services.GetRequiredService<HybridCache>().GetType().Name);
    }

    [Fact]
    public void AddHybridCache_after_AddAttributeCaching_keeps_ours()
    {
        using ServiceProvider services = new ServiceCollection().AddAttributeCaching().AddHybridCache().Services.BuildServiceProvider();

        Assert.Equal("EngineHybridCache", services.GetRequiredService<HybridCache>().GetType().Name);
    }

    [Fact]
    public async Task Ours_with_AddHybridCache_after_it_still_writes_strings_as_json()
    {
        await using ServiceProvider services = new ServiceCollection().AddAttributeCaching().AddHybridCache().Services.BuildServiceProvider();

        await services.GetRequiredService<HybridCache>().SetAsync("note:1", "text");

        Assert.Equal("\"text\"", System.Text.Encoding.UTF8.GetString((await services.GetRequiredService<ICacheStore>().GetAsync("note:1"))!));
    }

    [Fact]
    public async Task Another_HybridCache_is_reported_at_start_up()
    {
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(new Microsoft.Extensions.Logging.Testing.FakeLoggerProvider(logs)))
            .AddHybridCache().Services
            .AddAttributeCaching();
        await using ServiceProvider provider = services.BuildServiceProvider();

        foreach (var hosted in provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        Assert.Contains(logs.GetSnapshot(), r => r.Level == Microsoft.Extensions.Logging.LogLevel.Warning && r.Message.Contains("HybridCache resolves to", StringComparison.Ordinal));
    }
}
