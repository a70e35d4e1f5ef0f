using Caching.AspNetCore;

namespace Caching.Runtime.Tests.Engine;

public sealed class MissCoalescerTests
{
    [Fact]
    public async Task Followers_get_the_leaders_bytes_when_no_invalidation_came_between()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromSeconds(5));
        TaskCompletionSource<byte[]?>? lease = coalescer.TryLead("k", epoch: 7, out Task<byte[]?>? none);
        Assert.NotNull(lease);
        Assert.Null(none);

        Assert.Null(coalescer.TryLead("k", epoch: 7, out Task<byte[]?>? leader));
        Assert.NotNull(leader);
        coalescer.Complete("k", lease!, [1, 2]);

        Assert.Equal([1, 2], await coalescer.FollowAsync(leader!, CancellationToken.None));
    }

    [Fact]
    public async Task A_request_after_an_invalidation_leads_a_new_load_instead_of_following_the_one_that_started_before_it()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromSeconds(5));
        TaskCompletionSource<byte[]?> stale = coalescer.TryLead("k", epoch: 7, out _)!;

        TaskCompletionSource<byte[]?>? fresh = coalescer.TryLead("k", epoch: 8, out Task<byte[]?>? none);
        Assert.NotNull(fresh);
        Assert.Null(none);

        // Later requests of the new epoch follow the new load, and the stale leader's end does not remove it.
        Assert.Null(coalescer.TryLead("k", epoch: 8, out Task<byte[]?>? leader));
        coalescer.Complete("k", stale, [1]);
        Assert.Null(coalescer.TryLead("k", epoch: 8, out Task<byte[]?>? stillLeader));
        coalescer.Complete("k", fresh!, [2]);
        Assert.Equal(new byte[] { 2 }, await leader!);
        Assert.Same(leader, stillLeader);
    }

    [Fact]
    public async Task A_leader_that_stored_nothing_lets_followers_run_the_handler()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromSeconds(5));
        TaskCompletionSource<byte[]?> lease = coalescer.TryLead("k", 1, out _)!;
        coalescer.TryLead("k", 1, out Task<byte[]?>? leader);

        coalescer.Complete("k", lease, null);

        Assert.Null(await coalescer.FollowAsync(leader!, CancellationToken.None));
        Assert.NotNull(coalescer.TryLead("k", 1, out _));
    }

    [Fact]
    public async Task Followers_stop_waiting_after_the_bound()
    {
        var coalescer = new MissCoalescer(TimeSpan.FromMilliseconds(50));
        coalescer.TryLead("k", 1, out _);
        coalescer.TryLead("k", 1, out Task<byte[]?>? leader);

        Assert.Null(await coalescer.FollowAsync(leader!, CancellationToken.None));
    }
}
