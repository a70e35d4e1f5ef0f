using Caching.Diagnostics;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Caching.Runtime.Tests.Engine;

/// <summary>
/// Stale-if-error and stale-while-revalidate through <see cref="ICache.GetOrCreateAsync{T}"/>: an entry is kept past
/// its expiration for its stale window; a failing reload is answered with it; a reload runs while it is served; an
/// invalidation of any kind removes it.
/// </summary>
public abstract class StaleTests : IAsyncLifetime
{
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);

    // Short enough for the Redis harnesses (which wait in real time) to outlive a lease in a few seconds.
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    protected StoreHarness H { get; private set; } = null!;

    public async Task InitializeAsync() => H = await CreateHarnessAsync(o => { o.ExpirationJitter = 0; o.LeaseDuration = Lease; });

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure);

    // Expires after ShortTtl; kept for the window given past it.
    private CacheEntryOptions Entry(TimeSpan? ifError = null, TimeSpan? whileRevalidate = null, string? space = null, string[]? tags = null)
        => new() { Expiration = H.ShortTtl, StaleIfError = ifError, StaleWhileRevalidate = whileRevalidate, Namespace = space, Tags = tags, KeyPrefix = "doc" };

    private static ValueTask<string> Fail(CancellationToken _) => throw new InvalidOperationException("database down");

    private Task ExpireAsync() => H.AdvanceAsync(H.ShortTtl * 1.5);

    public static TheoryData<string?> Namespaces() => new() { null, "space" };

    [Theory]
    [MemberData(nameof(Namespaces))]
    public async Task Within_the_stale_if_error_window_a_failing_factory_is_answered_with_the_last_value_which_stays(string? space)
    {
        CacheEntryOptions entry = Entry(ifError: TimeSpan.FromMinutes(10), space: space);
        using var stale = new MetricCollector<long>(H.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CachingMetrics.MeterName, "caching.stale_served");
        Assert.Equal("v1", await H.Cache.GetOrCreateAsync("doc:1", _ => ValueTask.FromResult("v1"), entry));
        await ExpireAsync();

        Assert.Equal("v1", await H.Cache.GetOrCreateAsync("doc:1", Fail, entry));
        Assert.Equal("v1", await H.Cache.GetOrCreateAsync("doc:1", Fail, entry));
        Assert.False((await H.Cache.TryGetAsync<string>("doc:1", entry)).Found); // stale is not a hit
        Assert.Equal(2, stale.GetMeasurementSnapshot().Sum(m => m.Value));

        // The origin is back: the next read reloads and stores.
        Assert.Equal("v2", await H.Cache.GetOrCreateAsync("doc:1", _ => ValueTask.FromResult("v2"), entry));
        Assert.Equal("v2", await H.Cache.GetOrCreateAsync("doc:1", Fail, entry));
    }

    [Fact]
    public async Task Without_a_window_or_past_it_the_error_goes_through()
    {
        await H.Cache.GetOrCreateAsync("doc:2", _ => ValueTask.FromResult("v1"), Entry());
        await H.Cache.GetOrCreateAsync("doc:3", _ => ValueTask.FromResult("v1"), Entry(ifError: H.ShortTtl));
        await H.AdvanceAsync(H.ShortTtl * 2.5);

        await Assert.ThrowsAsync<InvalidOperationException>(() => H.Cache.GetOrCreateAsync("doc:2", Fail, Entry()).AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => H.Cache.GetOrCreateAsync("doc:3", Fail, Entry(ifError: H.ShortTtl)).AsTask());
    }

    [Fact]
    public async Task The_options_window_applies_to_entries_without_their_own_and_zero_turns_it_off()
    {
        await using StoreHarness withDefault = await CreateHarnessAsync(o =>
        {
            o.ExpirationJitter = 0;
            o.StaleIfError = TimeSpan.FromMinutes(10);
        });
        var inherits = new CacheEntryOptions { Expiration = withDefault.ShortTtl };
        var off = new CacheEntryOptions { Expiration = withDefault.ShortTtl, StaleIfError = TimeSpan.Zero };
        await withDefault.Cache.GetOrCreateAsync("doc:4", _ => ValueTask.FromResult("v1"), inherits);
        await withDefault.Cache.GetOrCreateAsync("doc:5", _ => ValueTask.FromResult("v1"), off);
        await withDefault.AdvanceAsync(withDefault.ShortTtl * 1.5);

        Assert.Equal("v1", await withDefault.Cache.GetOrCreateAsync("doc:4", Fail, inherits));
        await Assert.ThrowsAsync<InvalidOperationException>(() => withDefault.Cache.GetOrCreateAsync("doc:5", Fail, off).AsTask());
    }

    public static TheoryData<string> Invalidations() => new() { "key", "pattern", "tag", "namespace" };

    [Theory]
    [MemberData(nameof(Invalidations))]
    public async Task An_invalidation_removes_the_stale_copy_too(string kind)
    {
        CacheEntryOptions entry = Entry(ifError: TimeSpan.FromMinutes(10), whileRevalidate: TimeSpan.FromMinutes(10), space: kind == "namespace" ? "space" : null, tags: ["t"]);
        await H.Cache.GetOrCreateAsync("doc:6", _ => ValueTask.FromResult("v1"), entry);
        await ExpireAsync();

        await Invalidate(kind, "doc:6");

        await Assert.ThrowsAsync<InvalidOperationException>(() => H.Cache.GetOrCreateAsync("doc:6", Fail, entry).AsTask());
        Assert.Equal("v2", await H.Cache.GetOrCreateAsync("doc:6", _ => ValueTask.FromResult("v2"), entry));
    }

    [Fact]
    public async Task Within_the_stale_while_revalidate_window_others_are_answered_at_once_while_one_reload_runs()
    {
        CacheEntryOptions entry = Entry(whileRevalidate: TimeSpan.FromMinutes(10));
        await H.Cache.GetOrCreateAsync("doc:7", _ => ValueTask.FromResult("v1"), entry);
        await ExpireAsync();

        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> reload = H.Cache.GetOrCreateAsync("doc:7", async _ =>
        {
            entered.SetResult();
            await release.Task;
            return "v2";
        }, entry).AsTask();
        await entered.Task.WaitAsync(GateTimeout);

        int otherLoads = 0;
        string[] others = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => H.Cache.GetOrCreateAsync("doc:7", _ =>
        {
            Interlocked.Increment(ref otherLoads);
            return ValueTask.FromResult("other");
        }, entry).AsTask())).WaitAsync(GateTimeout);

        Assert.All(others, value => Assert.Equal("v1", value));
        Assert.Equal(0, otherLoads);
        Assert.False(reload.IsCompleted);

        release.SetResult();
        Assert.Equal("v2", await reload.WaitAsync(GateTimeout));
        Assert.Equal("v2", await H.Cache.GetOrCreateAsync("doc:7", Fail, entry));
    }

    [Theory]
    [MemberData(nameof(Invalidations))]
    public async Task An_invalidation_during_a_reload_keeps_its_value_from_being_stored_and_the_stale_copy_from_being_served(string kind)
    {
        CacheEntryOptions entry = Entry(ifError: TimeSpan.FromMinutes(10), whileRevalidate: TimeSpan.FromMinutes(10), space: kind == "namespace" ? "space" : null, tags: ["t"]);
        await H.Cache.GetOrCreateAsync("doc:8", _ => ValueTask.FromResult("v1"), entry);
        await ExpireAsync();

        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> reload = H.Cache.GetOrCreateAsync("doc:8", async _ =>
        {
            entered.SetResult();
            await release.Task;
            return "read before the write";
        }, entry).AsTask();
        await entered.Task.WaitAsync(GateTimeout);

        await Invalidate(kind, "doc:8");

        // After the write returned: neither the stale copy nor an error's fallback to it.
        Assert.Equal("after", await H.Cache.GetOrCreateAsync("doc:8", _ => ValueTask.FromResult("after"), entry));
        release.SetResult();
        Assert.Equal("read before the write", await reload.WaitAsync(GateTimeout));

        // The reload's value was not stored, nor is the stale copy back (a namespace's reload may have kept the key
        // leased until it ended: the next read then loads).
        Assert.Equal("after", await H.Cache.GetOrCreateAsync("doc:8", _ => ValueTask.FromResult("after"), entry));
        Assert.Equal("after", await H.Cache.GetOrCreateAsync("doc:8", Fail, entry));
    }

    [Fact]
    public async Task An_entry_without_a_window_is_stored_as_before_and_one_with_a_window_lives_longer_in_the_store()
    {
        await H.Cache.SetAsync("doc:9", "plain", Entry());
        await H.Cache.SetAsync("doc:10", "timed", Entry(ifError: TimeSpan.FromMinutes(10)));

        Assert.Equal("\"plain\""u8.ToArray(), await H.Store.GetAsync("doc:9"));
        Assert.Equal(0xCA, (await H.Store.GetAsync("doc:10"))![0]);
        Assert.True(await H.Store.GetTimeToLiveAsync("doc:10") > TimeSpan.FromMinutes(9));
        Assert.Equal(new CacheResult<string>(true, "timed"), await H.Cache.TryGetAsync<string>("doc:10", Entry()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Past_the_soft_timeout_a_slow_reload_is_answered_with_the_stale_value_and_stores_when_it_completes_unless_invalidated(bool invalidate)
    {
        await using StoreHarness h = await CreateHarnessAsync(o =>
        {
            o.ExpirationJitter = 0;
            o.SoftTimeout = TimeSpan.FromMilliseconds(200);
        });
        var entry = new CacheEntryOptions { Expiration = h.ShortTtl, StaleIfError = TimeSpan.FromMinutes(10) };
        await h.Cache.GetOrCreateAsync("doc:11", _ => ValueTask.FromResult("v1"), entry);
        await h.AdvanceAsync(h.ShortTtl * 1.5);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<string> slow = h.Cache.GetOrCreateAsync("doc:11", async _ =>
        {
            await release.Task;
            done.SetResult();
            return "v2";
        }, entry).AsTask();
        for (int i = 0; i < 100 && !slow.IsCompleted; i++)
        {
            await h.AdvanceAsync(TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal("v1", await slow.WaitAsync(GateTimeout));
        if (invalidate)
        {
            await h.Cache.InvalidateKeysAsync(["doc:11"]);
        }

        release.SetResult();
        await done.Task.WaitAsync(GateTimeout);
        string expected = invalidate ? "v3" : "v2";
        for (int i = 0; i < 100 && !(await h.Cache.TryGetAsync<string>("doc:11", entry)).Found; i++)
        {
            if (invalidate)
            {
                await h.Cache.GetOrCreateAsync("doc:11", _ => ValueTask.FromResult("v3"), entry);
            }

            await Task.Delay(20);
        }

        Assert.Equal(new CacheResult<string>(true, expected), await h.Cache.TryGetAsync<string>("doc:11", entry));
    }

    private async Task Invalidate(string kind, string key)
    {
        switch (kind)
        {
            case "key":
                await H.Cache.InvalidateKeysAsync([key]);
                break;
            case "pattern":
                await H.Cache.InvalidatePatternAsync(key[..^1] + "*");
                break;
            case "tag":
                await H.Cache.InvalidateTagAsync("t");
                break;
            default:
                await H.Cache.InvalidateNamespaceAsync("space");
                break;
        }
    }

    // Invalidation wins over stale-if-error: a reload that fails after a write's invalidation returned is not answered
    // with the stale copy read before it (the copy is read again when the failure comes, and it is gone).
    [Theory]
    [InlineData("key")]
    [InlineData("pattern")]
    [InlineData("tag")]
    [InlineData("namespace")]
    public async Task A_reload_that_fails_after_an_invalidation_is_not_answered_with_the_stale_copy(string kind)
    {
        CacheEntryOptions entry = Entry(ifError: TimeSpan.FromMinutes(10), space: kind == "namespace" ? "space" : null, tags: ["t"]);
        await H.Cache.GetOrCreateAsync("guard:1", _ => ValueTask.FromResult("before the write"), entry);
        await ExpireAsync();

        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> reload = H.Cache.GetOrCreateAsync<string>("guard:1", async _ =>
        {
            entered.SetResult();
            await release.Task;
            throw new InvalidOperationException("database down");
        }, entry).AsTask();
        await entered.Task.WaitAsync(GateTimeout);

        switch (kind)
        {
            case "key": await H.Cache.InvalidateKeysAsync(["guard:1"]); break;
            case "pattern": await H.Cache.InvalidatePatternAsync("guard:*"); break;
            case "tag": await H.Cache.InvalidateTagAsync("t"); break;
            default: await H.Cache.InvalidateNamespaceAsync("space"); break;
        }

        release.SetResult();
        await Assert.ThrowsAsync<InvalidOperationException>(() => reload.WaitAsync(GateTimeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => H.Cache.GetOrCreateAsync("guard:1", Fail, entry).AsTask());
    }

    // An origin's own timeout (HttpClient throws TaskCanceledException) is a failure, not the caller's cancellation.
    [Fact]
    public async Task An_origin_timeout_not_caused_by_the_caller_is_answered_with_the_stale_value()
    {
        CacheEntryOptions entry = Entry(ifError: TimeSpan.FromMinutes(10));
        await H.Cache.GetOrCreateAsync("guard:2", _ => ValueTask.FromResult("v1"), entry);
        await ExpireAsync();

        Assert.Equal("v1", await H.Cache.GetOrCreateAsync<string>("guard:2", _ => throw new TaskCanceledException("HttpClient.Timeout elapsed", new TimeoutException()), entry));

        // The caller's own cancellation goes through.
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => H.Cache.GetOrCreateAsync<string>("guard:2", ct => throw new OperationCanceledException(ct), entry, cancelled.Token).AsTask());
    }

    // A failing reload slower than LeaseDuration (a 30 s database timeout) keeps the stale copy for the rest of the
    // window: its lease ends at its deadline, not the copy, and the next reader takes the lease over.
    [Fact]
    public async Task A_slow_failing_reload_keeps_the_stale_copy_for_the_rest_of_the_window()
    {
        CacheEntryOptions entry = Entry(ifError: TimeSpan.FromMinutes(10));
        await H.Cache.GetOrCreateAsync("guard:3", _ => ValueTask.FromResult("v1"), entry);
        await ExpireAsync();

        Assert.Equal("v1", await H.Cache.GetOrCreateAsync<string>("guard:3", async _ =>
        {
            await H.AdvanceAsync(Lease + TimeSpan.FromSeconds(1));
            throw new InvalidOperationException("timeout");
        }, entry));
        Assert.Equal("v1", await H.Cache.GetOrCreateAsync("guard:3", Fail, entry));
        Assert.Equal("v2", await H.Cache.GetOrCreateAsync("guard:3", _ => ValueTask.FromResult("v2"), entry));
        Assert.Equal("v2", (await H.Cache.TryGetAsync<string>("guard:3", entry)).Value);
    }

    // A reload that crashed (its lease never given back) does not hold the key past the lease's deadline.
    [Fact]
    public async Task A_stale_lease_past_its_deadline_is_taken_over_by_the_next_reader()
    {
        CacheEntryOptions entry = Entry(ifError: TimeSpan.FromMinutes(10));
        await H.Cache.GetOrCreateAsync("guard:4", _ => ValueTask.FromResult("v1"), entry);
        await ExpireAsync();

        CacheLookup crashed = await H.Engine.GetAsync("guard:4", entry); // takes the stale lease, never stores nor gives it back
        Assert.True(crashed.HoldsLease);
        Assert.Equal("v1", await H.Cache.GetOrCreateAsync("guard:4", Fail, entry)); // still held: the stale copy answers
        await H.AdvanceAsync(Lease + TimeSpan.FromSeconds(1));
        int runs = 0;
        Assert.Equal("v2", await H.Cache.GetOrCreateAsync("guard:4", _ => { runs++; return ValueTask.FromResult("v2"); }, entry));
        Assert.Equal(1, runs);
        Assert.False(await H.Engine.SetAsync("guard:4", "\"late\""u8.ToArray(), entry, crashed)); // its lease is gone
    }

    // A reload near the end of the window stores its value: the key lives at least LeaseDuration while it loads.
    [Fact]
    public async Task A_reload_near_the_end_of_the_window_stores_its_value()
    {
        TimeSpan window = H.ShortTtl * 4;
        CacheEntryOptions entry = Entry(ifError: window);
        await H.Cache.GetOrCreateAsync("guard:5", _ => ValueTask.FromResult("v1"), entry);
        await H.AdvanceAsync(H.ShortTtl + window - TimeSpan.FromSeconds(1)); // one second of the window left

        Assert.Equal("v2", await H.Cache.GetOrCreateAsync("guard:5", async _ =>
        {
            await H.AdvanceAsync(TimeSpan.FromSeconds(2)); // past the window, within the lease
            return "v2";
        }, entry));
        Assert.Equal("v2", (await H.Cache.TryGetAsync<string>("guard:5", entry)).Value);
    }

    // Only the factory's failures are answered stale: a value it returned that cannot be stored (NaN is not JSON)
    // fails the call as it would without the window.
    [Fact]
    public async Task A_value_the_factory_returned_is_not_replaced_by_the_stale_one()
    {
        CacheEntryOptions entry = Entry(ifError: TimeSpan.FromMinutes(10));
        await H.Cache.GetOrCreateAsync("guard:6", _ => ValueTask.FromResult(1.5), entry);
        await ExpireAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => H.Cache.GetOrCreateAsync("guard:6", _ => ValueTask.FromResult(double.NaN), entry).AsTask());
        Assert.Equal(1.5, await H.Cache.GetOrCreateAsync<double>("guard:6", _ => throw new InvalidOperationException("down"), entry));
    }
}

public sealed class InMemoryStaleTests : StaleTests
{
    protected override Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => Task.FromResult<StoreHarness>(InMemoryHarness.Create(configure));
}

[Collection("redis")]
public sealed class RedisStaleTests(RedisFixture redis) : StaleTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => await RedisHarness.CreateAsync(redis.Server, configure);
}

[Collection("redis")]
public sealed class TwoLevelStaleTests(RedisFixture redis) : StaleTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure)
        => await RedisHarness.CreateAsync(redis.Server, o =>
        {
            o.LocalCache = true;
            configure(o);
        });
}

[Collection("redis-cluster")]
public sealed class RedisClusterStaleTests(RedisClusterFixture cluster) : StaleTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => await RedisHarness.CreateAsync(cluster.Cluster, configure);
}
