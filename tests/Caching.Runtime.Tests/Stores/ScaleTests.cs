using Caching.Keys;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;

namespace Caching.Runtime.Tests.Stores;

/// <summary>
/// Every invalidation kind at 1,000,000 keys, on one node and on the cluster: exactly the intended keys go,
/// checked by a full scan, and nothing fails (no CROSSSLOT, no timeout).
/// </summary>
public abstract class ScaleTests : IAsyncLifetime
{
    private const int Total = 1_000_000;
    private const int Matching = 100_000;
    private static readonly byte[] Value = "{\"id\":1}"u8.ToArray();

    private StoreHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await CreateHarnessAsync();

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync();

    [Fact]
    public async Task Pattern_tag_and_namespace_invalidation_at_a_million_keys_touch_exactly_the_intended_keys()
    {
        ICacheStore store = _harness.Store;
        string[] others = Enumerable.Range(0, Total - Matching).Select(i => CacheKey.Format($"user_{i % 50_000 + 100}_posts:{i}")).ToArray();
        string[] matching = Enumerable.Range(0, Matching).Select(i => CacheKey.Format($"user_{7}_posts:{i}")).ToArray();
        await _harness.FillAsync(others, Value, TimeSpan.FromMinutes(10));
        await _harness.FillAsync(matching, Value, TimeSpan.FromMinutes(10));

        // Pattern.
        PatternDeleteResult pattern = await store.DeleteByPatternAsync(CachePattern.Format($"user_{7}_posts:*"));
        Assert.Equal(Matching, pattern.Deleted);
        await AssertOnlyAsync(others);

        // Tag: the same keys, filed under one tag.
        foreach (string[] chunk in matching.Chunk(5000))
        {
            await Task.WhenAll(chunk.Select(k => store.AddToTagsAsync(k, ["bulk"], TimeSpan.FromMinutes(10)).AsTask()));
        }

        await _harness.FillAsync(matching, Value, TimeSpan.FromMinutes(10));
        Assert.Equal(Matching, await store.InvalidateTagAsync("bulk"));
        await AssertOnlyAsync(others);

        // Namespace: a bump deletes nothing and turns the namespace's entries into misses.
        var space = new CacheEntryOptions { Namespace = "user:7" };
        foreach (string[] chunk in matching.Take(1000).Chunk(500))
        {
            await Task.WhenAll(chunk.Select(k => _harness.Engine.SetAsync(k, Value, space).AsTask()));
        }

        await _harness.Engine.InvalidateNamespaceAsync("user:7");
        Assert.False((await _harness.Engine.GetAsync(matching[0], "user:7", null)).IsHit);
        Assert.Equal(Total - Matching + 1000, (await _harness.AllKeysAsync()).Count(k => !k.StartsWith("caching:", StringComparison.Ordinal)));
    }

    private async Task AssertOnlyAsync(string[] expected)
    {
        HashSet<string> left = await _harness.AllKeysAsync();
        left.RemoveWhere(k => k.StartsWith("caching:", StringComparison.Ordinal));
        Assert.Equal(expected.Length, left.Count);
        Assert.True(left.SetEquals(expected), "a key that should have stayed is gone, or one that should have gone is left");
    }
}

[Collection("redis")]
public sealed class RedisScaleTests(RedisFixture redis) : ScaleTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server);
}

[Collection("redis-cluster")]
public sealed class RedisClusterScaleTests(RedisClusterFixture cluster) : ScaleTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(cluster.Cluster);
}
