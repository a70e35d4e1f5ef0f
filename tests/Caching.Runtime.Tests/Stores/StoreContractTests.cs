using System.Text;
using Caching.Keys;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;

namespace Caching.Runtime.Tests.Stores;

/// <summary>
/// The store contract: every case runs against the in-process store and against a real redis-server.
/// </summary>
public abstract class StoreContractTests : IAsyncLifetime
{
    private static readonly byte[] Value = "{\"id\":1}"u8.ToArray();

    protected StoreHarness H { get; private set; } = null!;

    protected ICacheStore Store => H.Store;

    public async Task InitializeAsync() => H = await CreateHarnessAsync();

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync();

    [Fact]
    public async Task Get_returns_what_was_set_and_null_for_a_missing_key()
    {
        await Store.SetAsync("post:1", Value, TimeSpan.FromMinutes(5));

        Assert.Equal(Value, await Store.GetAsync("post:1"));
        Assert.Null(await Store.GetAsync("post:2"));
    }

    [Fact]
    public async Task Set_replaces_the_value_and_the_time_to_live()
    {
        await Store.SetAsync("post:1", Value, TimeSpan.FromHours(2));
        await Store.SetAsync("post:1", "new"u8.ToArray(), TimeSpan.FromMinutes(5));

        Assert.Equal("new"u8.ToArray(), await Store.GetAsync("post:1"));
        TimeSpan? ttl = await Store.GetTimeToLiveAsync("post:1");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task An_entry_expires_after_its_time_to_live()
    {
        TimeSpan ttl = H.ShortTtl;
        await Store.SetAsync("post:1", Value, ttl);
        await Store.SetAsync("post:2", Value, ttl * 100);

        TimeSpan? remaining = await Store.GetTimeToLiveAsync("post:1");
        Assert.NotNull(remaining);
        Assert.InRange(remaining.Value, TimeSpan.FromTicks(1), ttl);

        await H.AdvanceAsync(ttl + TimeSpan.FromMilliseconds(100));

        Assert.Null(await Store.GetAsync("post:1"));
        Assert.Null(await Store.GetTimeToLiveAsync("post:1"));
        Assert.Equal(Value, await Store.GetAsync("post:2"));
    }

    [Fact]
    public async Task Delete_counts_only_keys_that_existed()
    {
        await Store.SetAsync("a:1", Value, TimeSpan.FromMinutes(5));
        await Store.SetAsync("a:2", Value, TimeSpan.FromMinutes(5));
        await Store.SetAsync("a:3", Value, TimeSpan.FromMinutes(5));

        long deleted = await Store.DeleteAsync(["a:1", "a:2", "a:2", "a:missing"]);

        Assert.Equal(2, deleted);
        Assert.Equal(["a:3"], (await H.AllKeysAsync()).Order());
    }

    [Theory]
    [MemberData(nameof(GlobCases))]
    public async Task Pattern_delete_follows_redis_glob_rules(string pattern, string key, bool matches)
    {
        await Store.SetAsync(key, Value, TimeSpan.FromMinutes(5));
        await Store.SetAsync("zzz-other", Value, TimeSpan.FromMinutes(5));

        PatternDeleteResult result = await Store.DeleteByPatternAsync(pattern);

        Assert.Equal(matches ? 1 : 0, result.Deleted);
        Assert.Equal(!matches, (await Store.GetAsync(key)) is not null);
        Assert.NotNull(await Store.GetAsync("zzz-other"));
    }

    public static TheoryData<string, string, bool> GlobCases() => new()
    {
        { "post:*", "post:1", true },
        { "post:*", "post:", true },
        { "post:*", "posts:1", false },
        { "*:1", "post:1", true },
        { "p*t:1", "post:1", true },
        { "p**t:1", "post:1", true },
        { "post:?", "post:1", true },
        { "post:?", "post:12", false },
        { "post:??", "post:12", true },
        { "post:\\*", "post:*", true },
        { "post:\\*", "post:1", false },
        { "post:\\?", "post:?", true },
        { "post:\\?", "post:a", false },
        { "a\\[b", "a[b", true },
        { "a\\\\b", "a\\b", true },
        { "a\\b", "ab", true },
        { "post:[123]", "post:2", true },
        { "post:[123]", "post:4", false },
        { "post:[^123]", "post:4", true },
        { "post:[^123]", "post:1", false },
        { "post:[a-c]", "post:b", true },
        { "post:[a-c]", "post:d", false },
        { "post:[c-a]", "post:b", true },
        { "post:[\\]]", "post:]", true },
        { "post:[\\-]", "post:-", true },
        { "post:[a-]", "post:-", false }, // Redis reads "a-]" as the range ]..a and the class as unterminated
        { "post:[]", "post:]", false },
        { "post:[abc", "post:a", true },
        { "post:[abc", "post:d", false },
        { "post:[^", "post:x", true },
        { "user_*_posts:*", "user_42_posts:page_1", true },
        { "user_*_posts:*", "user_42_comments:1", false },
        { "*_user_7_*", "feed_user_7_page", true },
        { "é*", "été", true },
        { "[à-ü]", "é", false }, // bytes, not characters: the class matches only the first byte of "é"
        { "?", "é", false },
        { "??", "é", true },
    };

    [Fact]
    public async Task Pattern_delete_of_50000_among_200000_keys_deletes_exactly_those()
    {
        var matching = Enumerable.Range(0, 50_000).Select(i => $"user_7_posts:page_{i}").ToArray();
        var others = Enumerable.Range(0, 150_000).Select(i => (i % 3) switch
        {
            0 => $"user_{i}_posts:page_1",
            1 => $"user_77_posts:page_{i}",
            _ => $"post:{i}",
        }).ToArray();
        await H.FillAsync(matching, Value, TimeSpan.FromMinutes(10));
        await H.FillAsync(others, Value, TimeSpan.FromMinutes(10));

        PatternDeleteResult result = await Store.DeleteByPatternAsync(CachePattern.Format($"user_{7}_posts:*"));

        Assert.Equal(50_000, result.Deleted);
        HashSet<string> left = await H.AllKeysAsync();
        Assert.Equal(150_000, left.Count);
        Assert.True(left.SetEquals(others), "a key that did not match was deleted, or a matching key survived");
    }

    [Theory]
    [InlineData("*")]
    [InlineData("a*")]
    [InlineData("?")]
    [InlineData("[")]
    [InlineData("[a]")]
    [InlineData("\\")]
    [InlineData(":")]
    [InlineData("_")]
    [InlineData("%2A")]
    [InlineData("")]
    public async Task An_injected_value_invalidates_only_its_own_keys(string hostile)
    {
        string[] users = ["a", "ab", "a_b", "b", "*", "a*", "?", "[", "[a]", "\\", ":", "_", "%2A", "", "x:y"];
        foreach (string user in users)
        {
            await Store.SetAsync(CacheKey.Format($"user_{user}_posts:{1}"), Value, TimeSpan.FromMinutes(5));
            await Store.SetAsync(CacheKey.Format($"user_posts:{user}"), Value, TimeSpan.FromMinutes(5));
        }

        PatternDeleteResult byPattern = await Store.DeleteByPatternAsync(CachePattern.Format($"user_{hostile}_posts:*"));
        long byKey = await Store.DeleteAsync([CacheKey.Format($"user_posts:{hostile}")]);

        Assert.Equal(1, byPattern.Deleted);
        Assert.Equal(1, byKey);
        HashSet<string> left = await H.AllKeysAsync();
        Assert.Equal((users.Length - 1) * 2, left.Count);
        Assert.DoesNotContain(CacheKey.Format($"user_{hostile}_posts:{1}"), left);
        Assert.DoesNotContain(CacheKey.Format($"user_posts:{hostile}"), left);
    }

    [Fact]
    public async Task Pattern_delete_never_touches_internal_keys()
    {
        await Store.AddToTagsAsync("post:1", ["posts"], TimeSpan.FromMinutes(5));
        await Store.SetAsync("post:1", Value, TimeSpan.FromMinutes(5));
        await Store.SetNamespaceVersionAsync("user:1", "v1", TimeSpan.FromMinutes(5));

        PatternDeleteResult result = await Store.DeleteByPatternAsync("*");

        Assert.Equal(1, result.Deleted);
        Assert.Equal("v1", await Store.GetNamespaceVersionAsync("user:1"));
        await Store.SetAsync("post:1", Value, TimeSpan.FromMinutes(5));
        Assert.Equal(1, await Store.InvalidateTagAsync("posts"));
    }

    [Fact]
    public async Task Tag_invalidation_deletes_the_tagged_entries_and_nothing_else()
    {
        for (int i = 0; i < 1200; i++)
        {
            string key = $"product:{i}";
            string[] tags = i % 2 == 0 ? ["products", "category:electronics"] : ["products", "category:books"];
            await Store.AddToTagsAsync(key, tags, TimeSpan.FromMinutes(5));
            await Store.SetAsync(key, Value, TimeSpan.FromMinutes(5));
        }

        await Store.SetAsync("post:1", Value, TimeSpan.FromMinutes(5));

        long deleted = await Store.InvalidateTagAsync("category:electronics");

        Assert.Equal(600, deleted);
        HashSet<string> left = await H.AllKeysAsync();
        Assert.Contains("post:1", left);
        Assert.Equal(600, left.Count(k => k.StartsWith("product:", StringComparison.Ordinal)));
        Assert.All(left.Where(k => k.StartsWith("product:", StringComparison.Ordinal)), k => Assert.True(int.Parse(k["product:".Length..]) % 2 == 1));
        Assert.Equal(0, await Store.InvalidateTagAsync("category:electronics"));
        Assert.Equal(600, await Store.InvalidateTagAsync("products"));
    }

    [Fact]
    public async Task Tag_invalidation_counts_only_live_entries()
    {
        await Store.AddToTagsAsync("a:1", ["t"], TimeSpan.FromMinutes(5));
        await Store.AddToTagsAsync("a:2", ["t"], TimeSpan.FromMinutes(5));
        await Store.SetAsync("a:1", Value, TimeSpan.FromMinutes(5));

        Assert.Equal(1, await Store.InvalidateTagAsync("t"));
    }

    [Fact]
    public async Task Tag_data_is_gone_once_the_tagged_entries_expired()
    {
        TimeSpan ttl = H.ShortTtl;
        for (int i = 0; i < 20; i++)
        {
            await Store.AddToTagsAsync($"a:{i}", ["t1", $"t{i}"], ttl);
            await Store.SetAsync($"a:{i}", Value, ttl);
        }

        Assert.NotEmpty(await H.AllKeysAsync());

        await H.AdvanceAsync(ttl * 3);
        if (H is InMemoryHarness memory)
        {
            memory.Time.Advance(TimeSpan.FromMinutes(2));
            Assert.Equal(0, memory.MemoryStore.TagFilingCount);
            Assert.Equal(0, memory.MemoryStore.EntryCount);
        }

        Assert.Empty(await H.AllKeysAsync());
        Assert.Equal(0, await Store.InvalidateTagAsync("t1"));
    }

    [Fact]
    public async Task Namespace_versions_are_created_once_and_replaced_by_set()
    {
        Assert.Null(await Store.GetNamespaceVersionAsync("user:42"));

        Assert.True(await Store.TryCreateNamespaceVersionAsync("user:42", "v1", TimeSpan.FromMinutes(5)));
        Assert.False(await Store.TryCreateNamespaceVersionAsync("user:42", "v2", TimeSpan.FromMinutes(5)));
        Assert.Equal("v1", await Store.GetNamespaceVersionAsync("user:42"));

        await Store.SetNamespaceVersionAsync("user:42", "v3", TimeSpan.FromMinutes(5));
        Assert.Equal("v3", await Store.GetNamespaceVersionAsync("user:42"));
        Assert.Null(await Store.GetNamespaceVersionAsync("user:43"));
    }

    [Fact]
    public async Task A_namespace_version_expires_with_its_lifetime()
    {
        await Store.SetNamespaceVersionAsync("user:42", "v1", H.ShortTtl);

        await H.AdvanceAsync(H.ShortTtl + TimeSpan.FromMilliseconds(100));

        Assert.Null(await Store.GetNamespaceVersionAsync("user:42"));
        Assert.True(await Store.TryCreateNamespaceVersionAsync("user:42", "v2", TimeSpan.FromMinutes(5)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_read_that_takes_the_lease_returns_the_value_or_takes_the_lease_in_one_step(bool script)
    {
        if (Store is RedisCacheStore redis)
        {
            redis.LeaseReadsUseScript = script;
        }

        byte[] mine = [0xCA, 3, 1];
        byte[] theirs = [0xCA, 3, 2];
        await Store.SetAsync("post:2", Value, TimeSpan.FromMinutes(5));

        LeaseRead hit = await Store.GetOrAcquireLeaseAsync("post:2", mine, TimeSpan.FromMinutes(1));
        LeaseRead taken = await Store.GetOrAcquireLeaseAsync("post:3", mine, TimeSpan.FromMinutes(1));
        LeaseRead held = await Store.GetOrAcquireLeaseAsync("post:3", theirs, TimeSpan.FromMinutes(1));

        Assert.Equal(Value, hit.Value);
        Assert.False(hit.LeaseTaken);
        Assert.Equal(Value, await Store.GetAsync("post:2"));
        Assert.Null(taken.Value);
        Assert.True(taken.LeaseTaken);
        Assert.Equal(mine, await Store.GetAsync("post:3"));
        Assert.InRange((await Store.GetTimeToLiveAsync("post:3"))!.Value, TimeSpan.FromSeconds(50), TimeSpan.FromMinutes(1));
        Assert.Equal(mine, held.Value);
        Assert.False(held.LeaseTaken);
        Assert.True(await Store.SetIfLeaseAsync("post:3", mine, Value, TimeSpan.FromMinutes(5)));
        Assert.Equal(Value, (await Store.GetOrAcquireLeaseAsync("post:3", theirs, TimeSpan.FromMinutes(1))).Value);
    }

    [Fact]
    public async Task A_lease_is_taken_once_and_only_its_holder_fills_the_key()
    {
        byte[] mine = [0xCA, 3, 1];
        byte[] theirs = [0xCA, 3, 2];

        Assert.True(await Store.TryAcquireLeaseAsync("post:1", mine, TimeSpan.FromMinutes(1)));
        Assert.False(await Store.TryAcquireLeaseAsync("post:1", theirs, TimeSpan.FromMinutes(1)));
        Assert.False(await Store.SetIfLeaseAsync("post:1", theirs, Value, TimeSpan.FromMinutes(5)));
        Assert.True(await Store.SetIfLeaseAsync("post:1", mine, Value, TimeSpan.FromMinutes(5)));

        Assert.Equal(Value, await Store.GetAsync("post:1"));
        Assert.InRange((await Store.GetTimeToLiveAsync("post:1"))!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        Assert.False(await Store.TryAcquireLeaseAsync("post:1", theirs, TimeSpan.FromMinutes(1)));
    }

    [Theory]
    [InlineData("key")]
    [InlineData("pattern")]
    [InlineData("tag")]
    public async Task An_invalidation_during_the_load_removes_the_lease_so_the_old_value_is_not_stored(string kind)
    {
        byte[] lease = [0xCA, 3, 7];
        await Store.AddToTagsAsync("post:9", ["posts"], TimeSpan.FromMinutes(5));
        Assert.True(await Store.TryAcquireLeaseAsync("post:9", lease, TimeSpan.FromMinutes(1)));

        switch (kind)
        {
            case "key":
                await Store.DeleteAsync(["post:9"]);
                break;
            case "pattern":
                await Store.DeleteByPatternAsync("post:*");
                break;
            default:
                await Store.InvalidateTagAsync("posts");
                break;
        }

        Assert.False(await Store.SetIfLeaseAsync("post:9", lease, Value, TimeSpan.FromMinutes(5)));
        Assert.Null(await Store.GetAsync("post:9"));
    }

    [Fact]
    public async Task Releasing_a_lease_removes_only_that_lease()
    {
        byte[] lease = [0xCA, 3, 8];
        await Store.TryAcquireLeaseAsync("post:3", lease, TimeSpan.FromMinutes(1));
        await Store.ReleaseLeaseAsync("post:3", new byte[] { 0xCA, 3, 9 });
        Assert.NotNull(await Store.GetAsync("post:3"));

        await Store.ReleaseLeaseAsync("post:3", lease);
        Assert.Null(await Store.GetAsync("post:3"));

        await Store.SetAsync("post:3", Value, TimeSpan.FromMinutes(1));
        await Store.ReleaseLeaseAsync("post:3", lease);
        Assert.Equal(Value, await Store.GetAsync("post:3"));
    }

    [Fact]
    public async Task Keys_are_binary_safe_utf8()
    {
        string key = CacheKey.Format($"title:{"Ünïcödé ✓ 𝄞"}");
        await Store.SetAsync(key, Encoding.UTF8.GetBytes("ok"), TimeSpan.FromMinutes(5));

        Assert.Equal("ok"u8.ToArray(), await Store.GetAsync(key));
        Assert.Equal(1, (await Store.DeleteByPatternAsync(CachePattern.Format($"title:{"Ünïcödé ✓ 𝄞"}"))).Deleted);
    }
}

public sealed class InMemoryStoreContractTests : StoreContractTests
{
    protected override Task<StoreHarness> CreateHarnessAsync() => Task.FromResult<StoreHarness>(InMemoryHarness.Create());
}

[Collection("redis")]
public sealed class RedisStoreContractTests(RedisFixture redis) : StoreContractTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server);
}

[Collection("redis-cluster")]
public sealed class RedisClusterStoreContractTests(RedisClusterFixture cluster) : StoreContractTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(cluster.Cluster);

    [Fact]
    public async Task Matching_keys_spread_over_every_primary_are_all_deleted_without_crossslot()
    {
        var keys = Enumerable.Range(0, 3000).Select(i => $"spread:{i}").ToArray();
        await H.FillAsync(keys, [1], TimeSpan.FromMinutes(5));
        foreach (StackExchange.Redis.IServer primary in cluster.Cluster.Primaries)
        {
            Assert.True(await primary.DatabaseSizeAsync() > 500, $"{primary.EndPoint} holds too few keys for this test to mean anything");
        }

        PatternDeleteResult result = await Store.DeleteByPatternAsync("spread:*");
        long byKeys = await Store.DeleteAsync(keys);

        Assert.Equal(3000, result.Deleted);
        Assert.Equal(0, byKeys);
        Assert.Empty(await H.AllKeysAsync());
    }
}
