using Caching.Diagnostics;
using Caching.Keys;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Caching.Runtime.Tests.Engine;

public sealed record Post(int Id, string Title, string[] Tags);

/// <summary><see cref="ICache"/> and <see cref="CacheEngine"/> behaviour, against both stores.</summary>
public abstract class CacheContractTests : IAsyncLifetime
{
    protected StoreHarness H { get; private set; } = null!;

    protected ICache Cache => H.Cache;

    public async Task InitializeAsync() => H = await CreateHarnessAsync();

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync();

    [Fact]
    public async Task GetOrCreate_runs_the_factory_once_and_round_trips_the_value()
    {
        int calls = 0;
        var post = new Post(5, "Hello", ["a", "b"]);
        ValueTask<Post> Load(CancellationToken _)
        {
            calls++;
            return ValueTask.FromResult(post);
        }

        Post first = await Cache.GetOrCreateAsync("post:5", Load);
        Post second = await Cache.GetOrCreateAsync("post:5", Load);

        Assert.Equal(1, calls);
        Assert.Equal(post.Title, second.Title);
        Assert.Equal(post.Tags, second.Tags);
        Assert.Same(post, first);
        Assert.Equal("{\"id\":5,\"title\":\"Hello\",\"tags\":[\"a\",\"b\"]}", System.Text.Encoding.UTF8.GetString((await H.Store.GetAsync("post:5"))!));
    }

    [Fact]
    public async Task A_null_result_is_returned_but_not_stored()
    {
        int calls = 0;
        ValueTask<Post?> Load(CancellationToken _)
        {
            calls++;
            return ValueTask.FromResult<Post?>(null);
        }

        Assert.Null(await Cache.GetOrCreateAsync("post:404", Load));
        Assert.Null(await Cache.GetOrCreateAsync("post:404", Load));
        Assert.Equal(2, calls);
        Assert.Null(await H.Store.GetAsync("post:404"));
    }

    [Fact]
    public async Task Set_uses_the_given_expiration()
    {
        await Cache.SetAsync("stats:live", 17, new CacheEntryOptions { Expiration = TimeSpan.FromSeconds(60) });

        TimeSpan? ttl = await H.Store.GetTimeToLiveAsync("stats:live");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(55), TimeSpan.FromSeconds(60));
        Assert.Equal(new CacheResult<int>(true, 17), await Cache.TryGetAsync<int>("stats:live"));
        Assert.False((await Cache.TryGetAsync<int>("stats:other")).Found);
    }

    [Fact]
    public async Task Invalidate_by_keys_pattern_and_tag()
    {
        var products = new CacheEntryOptions { Tags = ["products"] };
        await Cache.SetAsync("product:1", 1, products);
        await Cache.SetAsync("product:2", 2, products);
        await Cache.SetAsync(CacheKey.Format($"user_{7}_posts:{1}"), 1);
        await Cache.SetAsync(CacheKey.Format($"user_{7}_posts:{2}"), 2);
        await Cache.SetAsync(CacheKey.Format($"user_{77}_posts:{1}"), 3);
        await Cache.SetAsync("recent_posts:global", 4);

        Assert.Equal(1, await Cache.InvalidateKeysAsync(["recent_posts:global", "missing:1"]));
        Assert.Equal(2, await Cache.InvalidatePatternAsync(CachePattern.Format($"user_{7}_posts:*")));
        Assert.Equal(2, await Cache.InvalidateTagAsync("products"));

        Assert.Equal([CacheKey.Format($"user_{77}_posts:{1}")], (await H.AllKeysAsync()).Where(k => !k.StartsWith("caching:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Namespace_invalidation_turns_every_entry_of_the_namespace_into_a_miss()
    {
        var user42 = new CacheEntryOptions { Namespace = "user:42" };
        var user43 = new CacheEntryOptions { Namespace = "user:43" };
        await Cache.SetAsync("user_profile:42", "p42", user42);
        await Cache.SetAsync("user_posts:42", "posts42", user42);
        await Cache.SetAsync("user_profile:43", "p43", user43);

        Assert.Equal("p42", (await Cache.TryGetAsync<string>("user_profile:42", user42)).Value);

        await Cache.InvalidateNamespaceAsync("user:42");

        Assert.False((await Cache.TryGetAsync<string>("user_profile:42", user42)).Found);
        Assert.False((await Cache.TryGetAsync<string>("user_posts:42", user42)).Found);
        Assert.Equal("p43", (await Cache.TryGetAsync<string>("user_profile:43", user43)).Value);

        await Cache.SetAsync("user_profile:42", "p42 new", user42);
        Assert.Equal("p42 new", (await Cache.TryGetAsync<string>("user_profile:42", user42)).Value);
    }

    [Fact]
    public async Task A_value_loaded_before_a_namespace_invalidation_is_never_served_after_it()
    {
        var user42 = new CacheEntryOptions { Namespace = "user:42" };
        await Cache.SetAsync("user_profile:42", "v1", user42);
        await Cache.InvalidateNamespaceAsync("user:42");

        // A reader misses, loads old data slowly; a writer invalidates meanwhile; the reader then stores.
        CacheLookup lookup = await H.Engine.GetAsync("user_profile:42", "user:42", "user_profile");
        Assert.False(lookup.IsHit);
        await Cache.InvalidateNamespaceAsync("user:42");
        await H.Engine.SetAsync("user_profile:42", "\"stale\""u8.ToArray(), user42, lookup);

        Assert.False((await Cache.TryGetAsync<string>("user_profile:42", user42)).Found);
    }

    [Fact]
    public async Task A_value_loaded_while_a_new_namespace_got_its_first_version_is_not_stored()
    {
        var user9 = new CacheEntryOptions { Namespace = "user:9" };
        CacheLookup lookup = await H.Engine.GetAsync("user_profile:9", "user:9", "user_profile");
        Assert.Null(lookup.ObservedNamespaceVersion);
        await Cache.InvalidateNamespaceAsync("user:9");

        bool stored = await H.Engine.SetAsync("user_profile:9", "\"stale\""u8.ToArray(), user9, lookup);

        Assert.False(stored);
        Assert.False((await Cache.TryGetAsync<string>("user_profile:9", user9)).Found);
    }

    [Fact]
    public async Task A_slow_read_interleaved_with_writes_never_stores_old_data()
    {
        // Deterministic interleaving, 300 times, rotating the invalidation kind: miss, write + invalidate, then
        // the slow reader tries to store what it loaded before the write.
        string db = "v0";
        var entry = new CacheEntryOptions { Tags = ["posts"], KeyPrefix = "post" };
        for (int i = 0; i < 300; i++)
        {
            CacheLookup lookup = await H.Engine.GetAsync("post:1", entry);
            Assert.False(lookup.IsHit);
            string loaded = db;

            db = "v" + (i + 1);
            switch (i % 3)
            {
                case 0:
                    await H.Engine.InvalidateKeysAsync(["post:1"]);
                    break;
                case 1:
                    await H.Engine.InvalidatePatternAsync("post:*");
                    break;
                default:
                    await H.Engine.InvalidateTagAsync("posts");
                    break;
            }

            bool stored = await H.Engine.SetAsync("post:1", System.Text.Encoding.UTF8.GetBytes(loaded), entry, lookup);

            Assert.False(stored);
            Assert.Null(await H.Store.GetAsync("post:1"));
        }
    }

    [Fact]
    public async Task Concurrent_slow_readers_and_writers_leave_no_stale_entry()
    {
        string db = "v0";
        int version = 0;
        var entry = new CacheEntryOptions { KeyPrefix = "post" };
        var random = new Random(3);
        for (int round = 0; round < 40; round++)
        {
            Task[] readers = Enumerable.Range(0, 4).Select(async _ =>
            {
                await Cache.GetOrCreateAsync("post:2", async ct =>
                {
                    string seen = Volatile.Read(ref db);
                    await Task.Delay(random.Next(1, 6), ct);
                    return seen;
                }, entry);
            }).ToArray();
            Task writer = Task.Run(async () =>
            {
                await Task.Delay(random.Next(0, 4));
                Volatile.Write(ref db, "v" + Interlocked.Increment(ref version));
                await Cache.InvalidateKeysAsync(["post:2"]);
            });
            await Task.WhenAll(readers.Append(writer));

            CacheResult<string> cached = await Cache.TryGetAsync<string>("post:2");
            Assert.True(!cached.Found || cached.Value == Volatile.Read(ref db), $"round {round}: cached {cached.Value}, database {db}");
        }
    }

    [Fact]
    public async Task Concurrent_explicit_writes_into_a_new_namespace_are_all_stored()
    {
        var space = new CacheEntryOptions { Namespace = "user:5" };

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Cache.SetAsync($"item:{i}", i, space).AsTask()));

        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(i, (await Cache.TryGetAsync<int>($"item:{i}", space)).Value);
        }
    }

    [Fact]
    public async Task Expiration_jitter_spreads_entries_written_together_within_the_bound()
    {
        await using StoreHarness jittered = await CreateHarnessAsync(o => o.ExpirationJitter = 0.5);
        var options = new CacheEntryOptions { Expiration = TimeSpan.FromSeconds(100) };

        for (int i = 0; i < 40; i++)
        {
            await jittered.Cache.SetAsync($"j:{i}", i, options);
        }

        var ttls = new List<double>();
        for (int i = 0; i < 40; i++)
        {
            ttls.Add((await jittered.Store.GetTimeToLiveAsync($"j:{i}"))!.Value.TotalSeconds);
        }

        Assert.All(ttls, t => Assert.InRange(t, 95, 150));
        Assert.True(ttls.Max() - ttls.Min() > 10, $"TTLs barely differ: {ttls.Min():F1}..{ttls.Max():F1}");
    }

    [Fact]
    public async Task A_namespaced_entry_read_without_its_namespace_is_a_miss_not_garbage()
    {
        await Cache.SetAsync("profile:1", "p1", new CacheEntryOptions { Namespace = "user:1" });

        Assert.False((await Cache.TryGetAsync<string>("profile:1")).Found);
        Assert.True((await Cache.TryGetAsync<string>("profile:1", new CacheEntryOptions { Namespace = "user:1" })).Found);
    }

    [Fact]
    public async Task Each_invalidation_makes_single_flight_forget_the_loads_it_concerns_and_only_those()
    {
        MissCoalescer flights = H.Engine.Coalescer!;
        var tagged = new CacheEntryOptions { Tags = ["t"] };
        var spaced = new CacheEntryOptions { Namespace = "n:1" };
        flights.TryLead("a:1", "a:1", new CacheEntryOptions(), out _);
        flights.TryLead("b:1", "b:1", new CacheEntryOptions(), out _);
        flights.TryLead("c:1", "c:1", tagged, out _);
        flights.TryLead("n:1\nd:1", "d:1", spaced, out _);
        flights.TryLead("e:1", "e:1", new CacheEntryOptions(), out _);

        await Cache.InvalidateKeysAsync(["a:1"]);
        await Cache.InvalidatePatternAsync("b:*");
        await Cache.InvalidateTagAsync("t");
        await Cache.InvalidateNamespaceAsync("n:1");

        Assert.NotNull(flights.TryLead("a:1", "a:1", new CacheEntryOptions(), out _));
        Assert.NotNull(flights.TryLead("b:1", "b:1", new CacheEntryOptions(), out _));
        Assert.NotNull(flights.TryLead("c:1", "c:1", tagged, out _));
        Assert.NotNull(flights.TryLead("n:1\nd:1", "d:1", spaced, out _));
        Assert.Null(flights.TryLead("e:1", "e:1", new CacheEntryOptions(), out _)); // untouched: still followed
    }

    [Fact]
    public async Task An_explicit_write_makes_single_flight_forget_the_loads_of_its_key()
    {
        MissCoalescer flights = H.Engine.Coalescer!;
        flights.TryLead("w:1", "w:1", new CacheEntryOptions(), out _);

        await Cache.SetAsync("w:1", "fresh");

        Assert.NotNull(flights.TryLead("w:1", "w:1", new CacheEntryOptions(), out _));
    }

    [Fact]
    public async Task Bad_input_is_an_argument_exception_and_writes_nothing()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync("", 1).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync(null!, 1).AsTask());
        ArgumentException tooLong = await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync("k:" + new string('x', 1023), 1).AsTask());
        Assert.Contains("MaxKeyLength", tooLong.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync("k:" + new string('é', 512), 1).AsTask());
        ArgumentNullException nullValue = await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync<string?>("k:1", null).AsTask());
        Assert.Contains("null", nullValue.Message);
        ArgumentException reserved = await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync("caching:ns:user:1", 1).AsTask());
        Assert.Contains("InternalKeyPrefix", reserved.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Cache.SetAsync("k:1", 1, new CacheEntryOptions { Expiration = TimeSpan.Zero }).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync("k:1", 1, new CacheEntryOptions { Tags = [""] }).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync("k:1", 1, new CacheEntryOptions { Namespace = "" }).AsTask());
        ArgumentException everything = await Assert.ThrowsAsync<ArgumentException>(() => Cache.InvalidatePatternAsync("**").AsTask());
        Assert.Contains("every key", everything.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.InvalidatePatternAsync("").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.InvalidatePatternAsync("??*").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.InvalidateKeysAsync(["ok:1", ""]).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.InvalidateTagAsync("").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Cache.InvalidateNamespaceAsync("").AsTask());

        Assert.Empty(await H.AllKeysAsync());
    }

    [Fact]
    public async Task The_key_length_limit_is_configurable()
    {
        await using StoreHarness small = await CreateHarnessAsync(o => o.MaxKeyLength = 20);

        await small.Cache.SetAsync("k:" + new string('x', 18), 1);
        await Assert.ThrowsAsync<ArgumentException>(() => small.Cache.SetAsync("k:" + new string('x', 19), 1).AsTask());
    }

    [Fact]
    public async Task Metrics_count_hits_misses_sets_and_deleted_keys_by_prefix()
    {
        var factory = H.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var hits = new MetricCollector<long>(factory, CachingMetrics.MeterName, "caching.hits");
        using var misses = new MetricCollector<long>(factory, CachingMetrics.MeterName, "caching.misses");
        using var sets = new MetricCollector<long>(factory, CachingMetrics.MeterName, "caching.sets");
        using var deleted = new MetricCollector<long>(factory, CachingMetrics.MeterName, "caching.keys_deleted");
        var post = new CacheEntryOptions { KeyPrefix = "post" };

        await Cache.GetOrCreateAsync("post:1", _ => ValueTask.FromResult(1), post);
        await Cache.GetOrCreateAsync("post:1", _ => ValueTask.FromResult(1), post);
        await Cache.GetOrCreateAsync("post:1", _ => ValueTask.FromResult(1), post);
        await H.Engine.InvalidateKeysAsync(["post:1"], "post");

        Assert.Equal(2, hits.GetMeasurementSnapshot().Where(m => Equals(m.Tags[CachingMetrics.KeyPrefixTag], "post")).Sum(m => m.Value));
        Assert.Equal(1, misses.GetMeasurementSnapshot().Where(m => Equals(m.Tags[CachingMetrics.KeyPrefixTag], "post")).Sum(m => m.Value));
        Assert.Equal(1, sets.GetMeasurementSnapshot().Sum(m => m.Value));
        CollectedMeasurement<long> delete = Assert.Single(deleted.GetMeasurementSnapshot());
        Assert.Equal(1, delete.Value);
        Assert.Equal("key", delete.Tags[CachingMetrics.InvalidationKindTag]);
    }

    protected abstract Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure);
}

public sealed class InMemoryCacheContractTests : CacheContractTests
{
    protected override Task<StoreHarness> CreateHarnessAsync() => Task.FromResult<StoreHarness>(InMemoryHarness.Create());

    protected override Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => Task.FromResult<StoreHarness>(InMemoryHarness.Create(configure));
}

[Collection("redis")]
public sealed class RedisCacheContractTests(RedisFixture redis) : CacheContractTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server);

    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => await RedisHarness.CreateAsync(redis.Server, configure);
}

[Collection("redis-cluster")]
public sealed class RedisClusterCacheContractTests(RedisClusterFixture cluster) : CacheContractTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(cluster.Cluster);

    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => await RedisHarness.CreateAsync(cluster.Cluster, configure);
}
