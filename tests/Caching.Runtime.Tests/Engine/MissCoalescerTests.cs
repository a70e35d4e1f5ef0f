namespace Caching.Runtime.Tests.Engine;

public sealed class MissCoalescerTests
{
    private static readonly CacheEntryOptions Plain = new();

    [Fact]
    public async Task Followers_get_the_leaders_bytes_when_no_invalidation_came_between()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromSeconds(5));
        TaskCompletionSource<byte[]?>? lease = coalescer.TryLead("k", "k", Plain, out Task<byte[]?>? none);
        Assert.NotNull(lease);
        Assert.Null(none);

        Assert.Null(coalescer.TryLead("k", "k", Plain, out Task<byte[]?>? leader));
        Assert.NotNull(leader);
        coalescer.Complete("k", lease!, [1, 2]);

        Assert.Equal([1, 2], await coalescer.FollowAsync(leader!, CancellationToken.None));
    }

    [Fact]
    public async Task A_request_after_an_invalidation_of_the_key_leads_a_new_load_instead_of_following_the_one_that_started_before_it()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromSeconds(5));
        TaskCompletionSource<byte[]?> stale = coalescer.TryLead("k", "k", Plain, out _)!;
        coalescer.ForgetKeys(["k"]);

        TaskCompletionSource<byte[]?>? fresh = coalescer.TryLead("k", "k", Plain, out Task<byte[]?>? none);
        Assert.NotNull(fresh);
        Assert.Null(none);

        // Later requests follow the new load, and the stale leader's end does not remove it.
        Assert.Null(coalescer.TryLead("k", "k", Plain, out Task<byte[]?>? leader));
        coalescer.Complete("k", stale, [1]);
        Assert.Null(coalescer.TryLead("k", "k", Plain, out Task<byte[]?>? stillLeader));
        coalescer.Complete("k", fresh!, [2]);
        Assert.Equal(new byte[] { 2 }, await leader!);
        Assert.Same(leader, stillLeader);
    }

    public static TheoryData<string, bool> Invalidations() => new()
    {
        // What was invalidated, and whether it concerns the load of "post:7" (namespace "user:1", tags "posts"
        // and the per-user variant tag of "post:7").
        { "key post:7", true },
        { "key post:8", false },
        { "key post", false },
        { "pattern post:*", true },
        { "pattern post:?", true },
        { "pattern post:7", true },
        { "pattern post:8*", false },
        { "pattern user_*", false },
        { "tag posts", true },
        { "tag vary:post:7", true },
        { "tag comments", false },
        { "namespace user:1", true },
        { "namespace user:2", false },
        { "all", true },
    };

    [Theory]
    [MemberData(nameof(Invalidations))]
    public void An_invalidation_forgets_exactly_the_loads_it_concerns(string invalidation, bool concerns)
    {
        var coalescer = new MissCoalescer(TimeSpan.FromSeconds(5));
        var entry = new CacheEntryOptions { Namespace = "user:1", Tags = ["posts", CacheEngine.VariantTag("post:7")] };
        coalescer.TryLead("user:1\npost:7", "post:7", entry, out _);
        coalescer.TryLead("other", "other:1", Plain, out _);

        string[] parts = invalidation.Split(' ');
        switch (parts[0])
        {
            case "key": coalescer.ForgetKeys([parts[1]]); break;
            case "pattern": coalescer.ForgetPattern(parts[1]); break;
            case "tag": coalescer.ForgetTag(parts[1]); break;
            case "namespace": coalescer.ForgetNamespace(parts[1]); break;
            default: coalescer.ForgetAll(); break;
        }

        bool leadsAnew = coalescer.TryLead("user:1\npost:7", "post:7", entry, out _) is not null;
        Assert.Equal(concerns, leadsAnew);
        Assert.Equal(invalidation == "all", coalescer.TryLead("other", "other:1", Plain, out _) is not null);
    }

    [Fact]
    public void A_pattern_without_a_wildcard_forgets_the_per_user_loads_as_the_store_deletes_them()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromSeconds(5));
        coalescer.TryLead("me:1|user:ann", "me:1|user:ann", Plain, out _);

        coalescer.ForgetPattern("me:1");

        Assert.NotNull(coalescer.TryLead("me:1|user:ann", "me:1|user:ann", Plain, out _));
    }

    [Fact]
    public async Task A_leader_that_stored_nothing_lets_followers_run_the_handler()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromSeconds(5));
        TaskCompletionSource<byte[]?> lease = coalescer.TryLead("k", "k", Plain, out _)!;
        coalescer.TryLead("k", "k", Plain, out Task<byte[]?>? leader);

        coalescer.Complete("k", lease, null);

        Assert.Null(await coalescer.FollowAsync(leader!, CancellationToken.None));
        Assert.NotNull(coalescer.TryLead("k", "k", Plain, out _));
    }

    [Fact]
    public async Task Followers_stop_waiting_after_the_bound()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromMilliseconds(50));
        coalescer.TryLead("k", "k", Plain, out _);
        coalescer.TryLead("k", "k", Plain, out Task<byte[]?>? leader);

        Assert.Null(await coalescer.FollowAsync(leader!, CancellationToken.None));
    }
}
