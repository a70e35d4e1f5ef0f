using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Caching.Runtime.Tests.Engine;

/// <summary>
/// <see cref="ICache.InvalidateAllAsync"/>: every entry this cache stored goes, of every kind, and a load in flight
/// when it runs does not store; the cache's internal keys stay. On every store.
/// </summary>
public abstract class InvalidateAllTests : IAsyncLifetime
{
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);

    protected StoreHarness H { get; private set; } = null!;

    protected ICache Cache => H.Cache;

    public async Task InitializeAsync() => H = await CreateHarnessAsync(o => o.ExpirationJitter = 0);

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure);

    protected static Func<CancellationToken, ValueTask<string>> Returns(string value) => _ => ValueTask.FromResult(value);

    [Fact]
    public async Task Every_kind_of_entry_is_removed_and_internal_keys_stay()
    {
        var tagged = new CacheEntryOptions { Tags = ["docs"] };
        var spaced = new CacheEntryOptions { Namespace = "user:1" };
        var timed = new CacheEntryOptions { StaleIfError = TimeSpan.FromMinutes(5) };
        await Cache.GetOrCreateAsync("doc:read", Returns("old"));
        await Cache.SetAsync("doc:set", "old");
        await Cache.GetOrCreateAsync("doc:tagged", Returns("old"), tagged);
        await Cache.GetOrCreateAsync("doc:spaced", Returns("old"), spaced);
        await Cache.GetOrCreateAsync("doc:timed", Returns("old"), timed);
        await H.Store.SetAsync("raw:store", "{}"u8.ToArray(), TimeSpan.FromMinutes(5));
        string[] stored = ["doc:read", "doc:set", "doc:tagged", "doc:spaced", "doc:timed", "raw:store"];
        Assert.Superset(stored.ToHashSet(), await H.AllKeysAsync());

        long deleted = await Cache.InvalidateAllAsync();

        Assert.Equal(stored.Length, deleted);
        HashSet<string> left = await H.AllKeysAsync();
        Assert.DoesNotContain(left, k => !k.StartsWith("caching:", StringComparison.Ordinal));
        Assert.NotNull(await H.Store.GetNamespaceVersionAsync("user:1")); // internal: the namespace's version stays
        Assert.Equal("new", await Cache.GetOrCreateAsync("doc:read", Returns("new")));
        Assert.Equal("new", await Cache.GetOrCreateAsync("doc:tagged", Returns("new"), tagged));
        Assert.Equal("new", await Cache.GetOrCreateAsync("doc:spaced", Returns("new"), spaced));
        Assert.Equal("new", await Cache.GetOrCreateAsync("doc:timed", Returns("new"), timed));
        Assert.False((await Cache.TryGetAsync<string>("doc:set")).Found);
    }

    [Fact]
    public async Task A_load_in_flight_when_everything_is_invalidated_does_not_store()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Slow(CancellationToken _)
        {
            started.SetResult();
            await gate.Task.WaitAsync(GateTimeout);
            return "read before the clear";
        }

        Task<string> load = Cache.GetOrCreateAsync("doc:racing", Slow).AsTask();
        await started.Task.WaitAsync(GateTimeout);
        Assert.Contains("doc:racing", await H.AllKeysAsync()); // its lease

        await Cache.InvalidateAllAsync();
        gate.SetResult();

        Assert.Equal("read before the clear", await load);
        Assert.False((await Cache.TryGetAsync<string>("doc:racing")).Found);
        Assert.Equal("after", await Cache.GetOrCreateAsync("doc:racing", Returns("after")));
    }

    [Fact]
    public async Task Thousands_of_entries_are_all_removed()
    {
        const int Count = 3000;
        await Task.WhenAll(Enumerable.Range(0, Count).Select(i => H.Store.SetAsync("bulk:" + i, "1"u8.ToArray(), TimeSpan.FromMinutes(5)).AsTask()));

        Assert.Equal(Count, await Cache.InvalidateAllAsync());
        Assert.DoesNotContain(await H.AllKeysAsync(), k => k.StartsWith("bulk:", StringComparison.Ordinal));
    }
}

public sealed class InMemoryInvalidateAllTests : InvalidateAllTests
{
    protected override Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => Task.FromResult<StoreHarness>(InMemoryHarness.Create(configure));
}

/// <summary>On Redis: only what this cache wrote goes, whatever else the database holds.</summary>
public abstract class RedisInvalidateAllTests : InvalidateAllTests
{
    protected abstract IRedisDeployment Redis { get; }

    [Fact]
    public async Task Keys_this_cache_did_not_write_stay()
    {
        IDatabase db = Redis.Connection.GetDatabase();
        await db.StringSetAsync("session:abc", "{\"user\":\"ann\"}");
        await db.StringSetAsync("post:999", "{\"id\":999}"); // a name like ours, written by someone else
        await db.StringSetAsync("msgpack:float", new byte[] { 0xCA, 0x03, 0x01, 0x02, 0x03 }); // starts like a lease
        await db.StringSetAsync("binary:17", new byte[] { 0xCA, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }); // a lease is 18 bytes
        await db.HashSetAsync("other:hash", "field", "value");
        await db.ListRightPushAsync("other:list", "item");
        await db.SetAddAsync("other:set", "member");
        await Cache.SetAsync("doc:mine", "mine");
        await Cache.GetOrCreateAsync("doc:mine2", Returns("mine"));

        Assert.Equal(2, await Cache.InvalidateAllAsync());

        HashSet<string> left = await H.AllKeysAsync();
        Assert.Superset(new HashSet<string> { "session:abc", "post:999", "msgpack:float", "binary:17", "other:hash", "other:list", "other:set" }, left);
        Assert.DoesNotContain("doc:mine", left);
        Assert.DoesNotContain("doc:mine2", left);
        Assert.Equal("{\"id\":999}", (string?)await db.StringGetAsync("post:999"));
    }

    [Fact]
    public async Task A_lease_another_instance_holds_is_removed_so_its_load_cannot_store()
    {
        // The other instance's lease, taken through its own engine: only the key holds it.
        await using RedisHarness other = await RedisHarness.CreateAsync(Redis, o => o.ExpirationJitter = 0);
        CacheLookup lookup = await other.Engine.GetAsync("doc:other", new CacheEntryOptions(), takeLease: true);
        Assert.True(lookup.HoldsLease);

        await Cache.InvalidateAllAsync();

        Assert.False(await other.Engine.SetAsync("doc:other", "\"late\""u8.ToArray(), null, lookup));
        Assert.Null(await H.Store.GetAsync("doc:other"));
    }
}

[Collection("redis")]
public sealed class RedisServerInvalidateAllTests(RedisFixture redis) : RedisInvalidateAllTests
{
    protected override IRedisDeployment Redis => redis.Server;

    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => await RedisHarness.CreateAsync(redis.Server, configure);
}

[Collection("redis")]
public sealed class TwoLevelInvalidateAllTests(RedisFixture redis) : RedisInvalidateAllTests
{
    protected override IRedisDeployment Redis => redis.Server;

    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure)
        => await RedisHarness.CreateAsync(redis.Server, o =>
        {
            o.LocalCache = true;
            configure(o);
        });

    [Fact]
    public async Task Another_instances_local_copies_go_too()
    {
        await using RedisHarness other = await RedisHarness.CreateAsync(redis.Server, o => o.LocalCache = true);
        await Cache.SetAsync("doc:shared", "old");
        Assert.Equal("old", await other.Cache.GetOrCreateAsync("doc:shared", Returns("unused"))); // now in its L1 too

        await Cache.InvalidateAllAsync();

        // Pub/sub carries the clear to the other instance: its L1 copy goes within moments.
        DateTime deadline = DateTime.UtcNow + GateTimeoutForPubSub;
        while ((await other.Cache.TryGetAsync<string>("doc:shared")).Found && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.False((await other.Cache.TryGetAsync<string>("doc:shared")).Found);
    }

    private static readonly TimeSpan GateTimeoutForPubSub = TimeSpan.FromSeconds(10);
}

[Collection("redis-cluster")]
public sealed class RedisClusterInvalidateAllTests(RedisClusterFixture cluster) : RedisInvalidateAllTests
{
    protected override IRedisDeployment Redis => cluster.Cluster;

    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => await RedisHarness.CreateAsync(cluster.Cluster, configure);

    [Theory]
    [InlineData("post:5")]
    [InlineData("{user1000}.following")]
    [InlineData("foo{}{bar}")]
    [InlineData("foo{{bar}}zap")]
    [InlineData("ключ:ü:🙂")]
    [InlineData("")]
    public async Task Hash_slots_match_the_clusters_own(string key)
    {
        IServer server = cluster.Cluster.Connection.GetServers().First(s => !s.IsReplica);
        long expected = (long)await server.ExecuteAsync("CLUSTER", "KEYSLOT", key);

        Assert.Equal(expected, HashSlots.Of(key));
    }
}

public sealed class HashSlotTagTests
{
    [Fact]
    public void Every_slot_has_a_tag_that_maps_to_it()
    {
        for (int slot = 0; slot < HashSlots.Count; slot++)
        {
            Assert.Equal(slot, HashSlots.Of("caching:keys:{" + HashSlots.TagFor(slot) + "}"));
        }
    }
}
