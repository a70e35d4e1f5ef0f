using System.Text;
using Caching.Stores;
using Caching.Stores.Eviction;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Caching.Runtime.Tests.Stores;

/// <summary>
/// The in-process store within <see cref="CachingOptions.InMemorySizeLimit"/>: the limit holds after every change,
/// eviction behaves as expiry (a value forgotten, never a wrong one served, a lease gone fails its fill), and the
/// frequency-based policy keeps hot keys through a scan that an LRU would let flush them.
/// </summary>
public sealed class BoundedInMemoryStoreTests : IDisposable
{
    private static readonly TimeSpan Ttl = TimeSpan.FromHours(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<InMemoryCacheStore> _stores = [];

    public void Dispose()
    {
        foreach (InMemoryCacheStore store in _stores)
        {
            store.Dispose();
        }
    }

    [Fact]
    public async Task The_limit_holds_after_every_insert_of_many_distinct_keys_and_the_accounts_match_a_recount()
    {
        const long limit = 64 * 1024;
        InMemoryCacheStore store = Create(limit);
        var random = new Random(1);
        for (int i = 0; i < 5_000; i++)
        {
            string key = $"post:{i}";
            Assert.Null(await store.GetAsync(key));
            await store.SetAsync(key, new byte[random.Next(0, 600)], Ttl);

            Assert.InRange(store.SizeInBytes, 0, limit);
            Assert.Equal(store.RecountBytes(), store.SizeInBytes);
        }

        // The limit was reached (the test did exercise the policy), and what is held fits in it.
        Assert.True(store.Evictions + store.Refusals > 1_000, $"only {store.Evictions} evictions and {store.Refusals} refusals");
        Assert.True(store.SizeInBytes > limit / 2, $"only {store.SizeInBytes} bytes held");
    }

    [Fact]
    public async Task An_entry_larger_than_the_limit_is_not_stored_and_what_its_key_held_is_gone()
    {
        const long limit = 4 * 1024;
        InMemoryCacheStore store = Create(limit);
        await store.SetAsync("post:1", "old"u8.ToArray(), Ttl);
        await store.SetAsync("post:2", "kept"u8.ToArray(), Ttl);

        await store.SetAsync("post:1", new byte[limit], Ttl);
        await store.SetAsync("post:3", new byte[limit + 1], Ttl);

        // Refused as if stored and evicted at once: the old value is not served in its place.
        Assert.Null(await store.GetAsync("post:1"));
        Assert.Null(await store.GetAsync("post:3"));
        Assert.Equal("kept"u8.ToArray(), await store.GetAsync("post:2"));
        Assert.Equal(EntryWeights.Entry("post:2", 4), store.SizeInBytes);
    }

    [Fact]
    public async Task Eviction_never_returns_a_wrong_value()
    {
        InMemoryCacheStore store = Create(limit: 16 * 1024);
        var latest = new Dictionary<string, string>(StringComparer.Ordinal);
        var random = new Random(2);
        int hits = 0;
        for (int i = 0; i < 30_000; i++)
        {
            // A skewed key choice, so that some keys are hot and some get evicted.
            string key = $"k:{(int)Math.Pow(random.Next(1, 400), 1.6)}";
            switch (random.Next(10))
            {
                case < 6:
                    byte[]? read = await store.GetAsync(key);
                    if (read is not null)
                    {
                        hits++;
                        Assert.True(latest.TryGetValue(key, out string? expected), $"{key} served a value never written");
                        Assert.Equal(expected, Encoding.UTF8.GetString(read));
                    }

                    break;
                case < 9:
                    string value = $"{key}={i}" + new string('x', random.Next(0, 200));
                    latest[key] = value;
                    await store.SetAsync(key, Encoding.UTF8.GetBytes(value), Ttl);
                    break;
                default:
                    latest.Remove(key);
                    await store.DeleteAsync([key]);
                    break;
            }
        }

        Assert.True(hits > 1_000, $"only {hits} hits: the test checked too few values");
        Assert.True(store.Evictions > 100, $"only {store.Evictions} evictions");
    }

    [Fact]
    public async Task Hot_keys_survive_a_scan_of_one_time_keys_which_flushes_them_out_of_an_LRU()
    {
        const int capacity = 100;
        const int hotKeys = 50;
        byte[] body = new byte[32];
        InMemoryCacheStore store = Create(capacity * EntryWeights.Entry("hot:00000", body.Length));
        var lru = new Lru(capacity);
        long storeHotHits = 0;
        long lruHotHits = 0;
        long hotReads = 0;
        for (int round = 0; round < 100; round++)
        {
            // Every hot key read once a round, then 100 keys never seen before and never seen again: an LRU of 100
            // entries has pushed every hot key out by the time it is read again.
            for (int h = 0; h < hotKeys; h++)
            {
                string key = $"hot:{h:D5}";
                bool counted = round >= 10; // after warm-up
                hotReads += counted ? 1 : 0;
                storeHotHits += await ReadThroughAsync(store, key, body) && counted ? 1 : 0;
                lruHotHits += lru.ReadThrough(key) && counted ? 1 : 0;
            }

            for (int s = 0; s < 100; s++)
            {
                string key = $"one:{(round * 100) + s:D5}";
                await ReadThroughAsync(store, key, body);
                lru.ReadThrough(key);
            }
        }

        Assert.Equal(0, lruHotHits);
        Assert.True(storeHotHits >= 0.95 * hotReads, $"hot keys found {storeHotHits} times of {hotReads}");
        Assert.InRange(store.SizeInBytes, 0, store.Policy.Limit);
    }

    [Fact]
    public async Task An_evicted_lease_fails_its_fill_and_stores_nothing()
    {
        byte[] body = new byte[32];
        InMemoryCacheStore store = Create(20 * EntryWeights.Entry("key:00000", body.Length));
        byte[] lease = "lease-1"u8.ToArray();
        Assert.Null(await store.GetAsync("key:lease"));
        Assert.True(await store.TryAcquireLeaseAsync("key:lease", lease, TimeSpan.FromSeconds(30)));

        // Popular keys (read three times before they are written) push the lease out.
        for (int i = 0; i < 200 && store.LiveKeys().Contains("key:lease"); i++)
        {
            string key = $"key:{i:D5}";
            await store.GetAsync(key);
            await store.GetAsync(key);
            await ReadThroughAsync(store, key, body);
        }

        Assert.DoesNotContain("key:lease", store.LiveKeys());

        // Asked for often meanwhile, the key would be admitted now: only the missing lease keeps the fill out.
        for (int i = 0; i < 10; i++)
        {
            Assert.Null(await store.GetAsync("key:lease"));
        }

        Assert.False(await store.SetIfLeaseAsync("key:lease", lease, "loaded"u8.ToArray(), Ttl));
        Assert.Null(await store.GetAsync("key:lease"));
        Assert.InRange(store.SizeInBytes, 0, store.Policy.Limit);
    }

    [Fact]
    public async Task A_lease_the_policy_refuses_is_taken_but_its_fill_stores_nothing()
    {
        byte[] body = new byte[32];
        InMemoryCacheStore store = Create(20 * EntryWeights.Entry("key:00000", body.Length));
        for (int i = 0; i < 20; i++)
        {
            string key = $"key:{i:D5}";
            await store.GetAsync(key);
            await store.GetAsync(key);
            await ReadThroughAsync(store, key, body);
        }

        // A key seen once, against a full store of keys seen three times: not admitted.
        byte[] lease = "lease-2"u8.ToArray();
        Assert.Null(await store.GetAsync("key:cold"));
        Assert.True(await store.TryAcquireLeaseAsync("key:cold", lease, TimeSpan.FromSeconds(30)));

        Assert.DoesNotContain("key:cold", store.LiveKeys());
        Assert.False(await store.SetIfLeaseAsync("key:cold", lease, "loaded"u8.ToArray(), Ttl));
        Assert.Null(await store.GetAsync("key:cold"));
        Assert.Equal(20, store.EntryCount);
    }

    [Fact]
    public async Task A_refused_write_leaves_no_lease_behind()
    {
        const long limit = 4 * 1024;
        InMemoryCacheStore store = Create(limit);
        byte[] lease = "lease-3"u8.ToArray();

        // A write too large for the limit replaces the lease, then is evicted: the lease is gone, as after a write.
        Assert.True(await store.TryAcquireLeaseAsync("post:1", lease, TimeSpan.FromSeconds(30)));
        await store.SetAsync("post:1", new byte[limit], Ttl);
        Assert.False(await store.SetIfLeaseAsync("post:1", lease, "stale"u8.ToArray(), Ttl));
        Assert.Null(await store.GetAsync("post:1"));

        // A fill too large for the limit is refused, and its lease removed: the next miss can take the key's lease.
        Assert.True(await store.TryAcquireLeaseAsync("post:2", lease, TimeSpan.FromSeconds(30)));
        Assert.False(await store.SetIfLeaseAsync("post:2", lease, new byte[limit], Ttl));
        Assert.Null(await store.GetAsync("post:2"));
        Assert.True(await store.TryAcquireLeaseAsync("post:2", "lease-4"u8.ToArray(), TimeSpan.FromSeconds(30)));
        Assert.Equal(store.RecountBytes(), store.SizeInBytes);
    }

    [Fact]
    public async Task Namespace_versions_and_tag_filings_are_counted_and_outlast_eviction_pressure()
    {
        byte[] body = new byte[64];
        long limit = 30 * EntryWeights.Entry("post:00000", body.Length);
        InMemoryCacheStore store = Create(limit);
        Assert.True(await store.TryCreateNamespaceVersionAsync("user:42", "v1", TimeSpan.FromDays(1)));
        await store.AddToTagsAsync("post:tagged", ["posts"], Ttl);
        await store.GetAsync("post:tagged");
        await store.SetAsync("post:tagged", "tagged"u8.ToArray(), Ttl);
        long pinned = EntryWeights.NamespaceVersion("user:42", "v1") + EntryWeights.TagIndex("posts") + EntryWeights.Filing("post:tagged");
        Assert.Equal(pinned, store.Policy.PinnedBytes);

        for (int i = 0; i < 2_000; i++)
        {
            string key = $"post:{i:D5}";
            await store.GetAsync(key);
            await store.GetAsync(key);
            await store.GetAsync(key);
            await ReadThroughAsync(store, key, body);
            Assert.InRange(store.SizeInBytes, 0, limit);
        }

        // The version is still there (entries under it keep their meaning), the filing too: wherever the tagged
        // entry is, a tag invalidation still finds it.
        Assert.Equal("v1", await store.GetNamespaceVersionAsync("user:42"));
        Assert.Equal(1, store.TagFilingCount);
        await store.InvalidateTagAsync("posts");
        Assert.Null(await store.GetAsync("post:tagged"));
        Assert.Equal(store.RecountBytes(), store.SizeInBytes);

        // Expired, they give their bytes back.
        _time.Advance(TimeSpan.FromDays(2));
        store.Sweep();
        Assert.Equal(0, store.Policy.PinnedBytes);
        Assert.Equal(0, store.SizeInBytes);
    }

    [Fact]
    public async Task Pinned_items_are_kept_even_beyond_the_limit_and_entries_then_get_no_room()
    {
        long limit = EntryWeights.TagIndex("t") + EntryWeights.Filing("post:00001") + 10;
        InMemoryCacheStore store = Create(limit);

        // Tag filings are never dropped (a tag invalidation must find every entry); entries then get no room.
        await store.AddToTagsAsync("post:00001", ["t"], Ttl);
        await store.SetAsync("post:00001", "v"u8.ToArray(), Ttl);
        Assert.Null(await store.GetAsync("post:00001"));
        Assert.Equal(0, store.EntryCount);

        await store.AddToTagsAsync("post:00002", ["t"], Ttl);
        Assert.Equal(2, store.TagFilingCount);
        Assert.Equal(limit - 10 + EntryWeights.Filing("post:00002"), store.SizeInBytes);
    }

    [Fact]
    public async Task Concurrent_reads_writes_leases_and_deletes_keep_the_limit_and_the_accounts()
    {
        const long limit = 48 * 1024;
        InMemoryCacheStore store = Create(limit);
        int overLimit = 0;
        int wrong = 0;
        long reads = 0;
        Task[] workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (int i = 0; i < 20_000; i++)
            {
                string key = $"k:{(int)Math.Pow(random.Next(1, 300), 1.5)}";
                switch (random.Next(20))
                {
                    case < 12:
                        byte[]? value = await store.GetAsync(key);
                        Interlocked.Increment(ref reads);

                        // Every value written under a key starts with the key; a lease's bytes start with "lease".
                        if (value is not null && !Encoding.UTF8.GetString(value).StartsWith(key + "=", StringComparison.Ordinal)
                            && !Encoding.UTF8.GetString(value).StartsWith("lease", StringComparison.Ordinal))
                        {
                            Interlocked.Increment(ref wrong);
                        }

                        break;
                    case < 17:
                        await store.SetAsync(key, Encoding.UTF8.GetBytes($"{key}={worker}:{i}" + new string('x', random.Next(0, 300))), Ttl);
                        break;
                    case < 19:
                        byte[] lease = Encoding.UTF8.GetBytes($"lease-{worker}-{i}");
                        if (await store.TryAcquireLeaseAsync(key, lease, TimeSpan.FromSeconds(30)))
                        {
                            await store.SetIfLeaseAsync(key, lease, Encoding.UTF8.GetBytes($"{key}=leased"), Ttl);
                        }

                        break;
                    default:
                        await store.DeleteAsync([key]);
                        break;
                }

                if (store.SizeInBytes > limit)
                {
                    Interlocked.Increment(ref overLimit);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(0, overLimit);
        Assert.Equal(0, wrong);
        Assert.True(store.Evictions > 100, $"only {store.Evictions} evictions");
        Assert.Equal(store.RecountBytes(), store.SizeInBytes);
        Assert.Equal(store.EntryCount, store.Policy.Count);
    }

    private static async Task<bool> ReadThroughAsync(InMemoryCacheStore store, string key, byte[] body)
    {
        if (await store.GetAsync(key) is not null)
        {
            return true;
        }

        await store.SetAsync(key, body, Ttl);
        return false;
    }

    private InMemoryCacheStore Create(long limit)
    {
        var store = new InMemoryCacheStore(Options.Create(new CachingOptions { InMemorySizeLimit = limit }), _time);
        _stores.Add(store);
        return store;
    }

    // The baseline the frequency policy is meant to beat on scans: least recently used, by entry count.
    private sealed class Lru(int capacity)
    {
        private readonly LinkedList<string> _order = new();
        private readonly Dictionary<string, LinkedListNode<string>> _nodes = new(StringComparer.Ordinal);

        public bool ReadThrough(string key)
        {
            if (_nodes.TryGetValue(key, out LinkedListNode<string>? node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                return true;
            }

            if (_nodes.Count == capacity)
            {
                _nodes.Remove(_order.Last!.Value);
                _order.RemoveLast();
            }

            _nodes[key] = _order.AddFirst(key);
            return false;
        }
    }
}
