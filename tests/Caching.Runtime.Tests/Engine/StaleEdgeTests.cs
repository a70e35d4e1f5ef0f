using Caching.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;

namespace Caching.Runtime.Tests.Engine;

/// <summary>
/// A request that follows a reload running past its soft timeout (in this process's single flight) is answered with
/// the stale value too, rather than wait for the reload or run the slow factory itself.
/// </summary>
public sealed class SoftTimeoutFollowerTests
{
    [Fact]
    public async Task A_follower_of_a_reload_past_its_soft_timeout_is_answered_with_the_stale_value_too()
    {
        await using InMemoryHarness h = InMemoryHarness.Create(o =>
        {
            o.ExpirationJitter = 0;
            o.SoftTimeout = TimeSpan.FromMilliseconds(200);
            o.CoalescingTimeout = TimeSpan.FromSeconds(30); // real time: longer than the test, so the follower is released by the leader
            o.LeaseDuration = TimeSpan.FromMinutes(10); // the clock below may run a minute: the reload's lease outlives it
        });
        var entry = new CacheEntryOptions { Expiration = h.ShortTtl, StaleIfError = TimeSpan.FromMinutes(10) };
        await h.Cache.GetOrCreateAsync("doc:7", _ => ValueTask.FromResult("v1"), entry);
        await h.AdvanceAsync(h.ShortTtl * 1.5);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Slow(CancellationToken _) { await release.Task; return "v2"; }

        Task<string> leader = h.Cache.GetOrCreateAsync("doc:7", Slow, entry).AsTask();
        Task<string> follower = h.Cache.GetOrCreateAsync("doc:7", Slow, entry).AsTask();
        // The app's clock moves in small steps until both are answered (or 30 s of real time, on a loaded machine).
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(leader.IsCompleted && follower.IsCompleted) && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await h.AdvanceAsync(TimeSpan.FromMilliseconds(100));
            await Task.Delay(50);
        }

        Assert.Equal("v1", await leader.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("v1", await follower.WaitAsync(TimeSpan.FromSeconds(5)));
        release.SetResult();
    }
}

/// <summary>
/// Two-level mode: a timed entry written through (<see cref="ICache.SetAsync{T}"/>) stays in the local level only while
/// fresh, so that after another instance reloads it this one reads the new value from Redis.
/// </summary>
[Collection("redis")]
public sealed class TwoLevelWrittenTimedEntryTests(RedisFixture redis)
{
    [Fact]
    public async Task A_written_timed_entry_does_not_stay_in_L1_past_its_freshness()
    {
        await using RedisHarness a = await RedisHarness.CreateAsync(redis.Server, o => { o.ExpirationJitter = 0; o.LocalCache = true; });
        await using RedisHarness b = await RedisHarness.CreateAsync(redis.Server, o => { o.ExpirationJitter = 0; o.LocalCache = true; });
        var entry = new CacheEntryOptions { Expiration = a.ShortTtl, StaleIfError = TimeSpan.FromMinutes(10) };

        await a.Cache.SetAsync("doc:6", "v1", entry); // write-through on instance a
        await a.AdvanceAsync(a.ShortTtl * 1.5);
        Assert.Null(await ((TwoLevelCacheStore)a.Store).Local.GetAsync("doc:6"));

        // Instance b reloads and stores v2; instance a should now hit it.
        Assert.Equal("v2", await b.Cache.GetOrCreateAsync("doc:6", _ => ValueTask.FromResult("v2"), entry));
        int calls = 0;
        for (int i = 0; i < 5; i++)
        {
            await a.Cache.GetOrCreateAsync("doc:6", _ => { calls++; return ValueTask.FromResult("a"); }, entry);
        }

        Assert.Equal(0, calls);
    }
}

/// <summary>
/// A request that waits for another instance's lease holder and takes its value is one lookup in the metrics (a
/// miss: it found no value), not a miss and a hit.
/// </summary>
[Collection("redis")]
public sealed class LeaseWaiterMetricsTests(RedisFixture redis)
{
    [Fact]
    public async Task A_request_that_waits_for_another_instances_load_counts_once()
    {
        await using RedisHarness a = await RedisHarness.CreateAsync(redis.Server);
        await using RedisHarness b = await RedisHarness.CreateAsync(redis.Server);
        var factory = b.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var hits = new MetricCollector<long>(factory, CachingMetrics.MeterName, "caching.hits");
        using var misses = new MetricCollector<long>(factory, CachingMetrics.MeterName, "caching.misses");
        var entry = new CacheEntryOptions { KeyPrefix = "report" };
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<string> loading = a.Cache.GetOrCreateAsync("report:1", async _ => { entered.SetResult(); await release.Task; return "from a"; }, entry).AsTask();
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Task<string> waiting = b.Cache.GetOrCreateAsync("report:1", _ => ValueTask.FromResult("from b"), entry).AsTask();
        await Task.Delay(200); // b reads the lease and waits for its holder
        release.SetResult();

        Assert.Equal("from a", await loading.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("from a", await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        long lookups = hits.GetMeasurementSnapshot().Sum(m => m.Value) + misses.GetMeasurementSnapshot().Sum(m => m.Value);
        Assert.Equal(1, lookups);
    }
}

/// <summary>
/// A failing reload answered with a value read again (here a fresh one written meanwhile) is one lookup in the
/// metrics, and that value is what the caller gets.
/// </summary>
public sealed class StaleReReadMetricsTests
{
    [Fact]
    public async Task A_failed_reload_answered_with_a_value_written_meanwhile_counts_once()
    {
        await using InMemoryHarness h = InMemoryHarness.Create(o => o.ExpirationJitter = 0);
        var factory = h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var hits = new MetricCollector<long>(factory, CachingMetrics.MeterName, "caching.hits");
        using var misses = new MetricCollector<long>(factory, CachingMetrics.MeterName, "caching.misses");
        var entry = new CacheEntryOptions { Expiration = h.ShortTtl, StaleIfError = TimeSpan.FromMinutes(10), KeyPrefix = "doc" };
        await h.Cache.GetOrCreateAsync("doc:9", _ => ValueTask.FromResult("v1"), entry);
        await h.AdvanceAsync(h.ShortTtl * 1.5);
        long before = hits.GetMeasurementSnapshot().Sum(m => m.Value) + misses.GetMeasurementSnapshot().Sum(m => m.Value);

        string answered = await h.Cache.GetOrCreateAsync<string>("doc:9", async _ =>
        {
            await h.Cache.SetAsync("doc:9", "written meanwhile", entry); // a write-through during the reload
            throw new InvalidOperationException("database down");
        }, entry);

        Assert.Equal("written meanwhile", answered);
        long after = hits.GetMeasurementSnapshot().Sum(m => m.Value) + misses.GetMeasurementSnapshot().Sum(m => m.Value);
        Assert.Equal(1, after - before);
    }
}
