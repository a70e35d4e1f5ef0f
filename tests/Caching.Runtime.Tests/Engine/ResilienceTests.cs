using Caching.AspNetCore;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Caching.Runtime.Tests.Engine;

public sealed class ResilienceTests
{
    [Fact]
    public void The_breaker_opens_after_failures_in_a_row_then_lets_one_probe_through()
    {
        var time = new FakeTimeProvider();
        var breaker = new StoreCircuitBreaker(threshold: 3, breakFor: TimeSpan.FromSeconds(5), time);

        breaker.RecordFailure();
        breaker.RecordFailure();
        breaker.RecordFailure();
        Assert.Throws<CacheStoreUnavailableException>(breaker.ThrowIfOpen);

        time.Advance(TimeSpan.FromSeconds(6));
        breaker.ThrowIfOpen();
        Assert.Throws<CacheStoreUnavailableException>(breaker.ThrowIfOpen);

        breaker.RecordSuccess();
        breaker.ThrowIfOpen();
        breaker.ThrowIfOpen();
    }

    [Fact]
    public void A_failed_probe_opens_the_breaker_again_at_once()
    {
        var time = new FakeTimeProvider();
        var breaker = new StoreCircuitBreaker(threshold: 3, breakFor: TimeSpan.FromSeconds(5), time);
        for (int i = 0; i < 3; i++)
        {
            breaker.RecordFailure();
        }

        time.Advance(TimeSpan.FromSeconds(6));
        breaker.ThrowIfOpen();
        breaker.RecordFailure();

        Assert.True(breaker.IsOpen);
    }

    [Fact]
    public async Task While_invalidations_wait_for_replay_reads_miss_and_loaded_values_are_not_stored()
    {
        await using InMemoryHarness harness = InMemoryHarness.Create();
        var pending = harness.Services.GetRequiredService<PendingInvalidations>();
        await harness.Cache.SetAsync("post:1", "old");

        pending.Add(new InvalidationSet("post:1"), "post");

        CacheLookup lookup = await harness.Engine.GetAsync("post:1", null, "post");
        Assert.False(lookup.IsHit);
        Assert.False(await harness.Engine.SetAsync("post:1", "\"loaded\""u8.ToArray(), null, lookup));

        Assert.True(await pending.TryReplayAsync());
        Assert.False(pending.HasPending);
        Assert.Null(await harness.Store.GetAsync("post:1"));
    }
}
