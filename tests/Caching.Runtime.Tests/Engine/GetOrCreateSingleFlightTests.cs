using Caching.Runtime.Tests.Infrastructure;

namespace Caching.Runtime.Tests.Engine;

/// <summary>
/// <see cref="ICache.GetOrCreateAsync{T}"/> has the endpoints' single flight: of concurrent misses of one key in a
/// process, one runs the factory; the others take what it stored, and run their own factory when it stored nothing.
/// </summary>
public abstract class GetOrCreateSingleFlightTests : IAsyncLifetime
{
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);

    protected StoreHarness H { get; private set; } = null!;

    public async Task InitializeAsync() => H = await CreateHarnessAsync();

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync();

    public static TheoryData<string?> Namespaces() => new() { null, "team:3" };

    [Theory]
    [MemberData(nameof(Namespaces))]
    public async Task Ten_concurrent_misses_run_the_factory_once_and_all_get_its_value(string? space)
    {
        var entry = new CacheEntryOptions { Namespace = space, KeyPrefix = "report" };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int runs = 0;
        Task<string>[] callers = Enumerable.Range(0, 10).Select(_ => H.Cache.GetOrCreateAsync("report:1", async _ =>
        {
            Interlocked.Increment(ref runs);
            await gate.Task;
            return "value";
        }, entry).AsTask()).ToArray();

        await Task.Delay(100); // let every caller arrive; the gate holds the one load
        gate.SetResult();
        string[] values = await Task.WhenAll(callers).WaitAsync(GateTimeout);

        Assert.All(values, v => Assert.Equal("value", v));
        Assert.Equal(1, runs);
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public async Task Followers_of_a_leader_that_failed_run_their_own_factory_and_never_get_an_empty_value(string? space)
    {
        var entry = new CacheEntryOptions { Namespace = space, KeyPrefix = "report" };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int runs = 0;
        Task<string> leader = H.Cache.GetOrCreateAsync<string>("report:2", async _ =>
        {
            Interlocked.Increment(ref runs);
            await gate.Task;
            throw new InvalidOperationException("db down");
        }, entry).AsTask();
        SpinWait.SpinUntil(() => Volatile.Read(ref runs) == 1, GateTimeout); // the leader is inside its factory
        Task<string>[] followers = Enumerable.Range(0, 5).Select(i => H.Cache.GetOrCreateAsync("report:2", _ =>
        {
            Interlocked.Increment(ref runs);
            return ValueTask.FromResult("own " + i);
        }, entry).AsTask()).ToArray();
        await Task.Delay(50);
        gate.SetResult();

        await Assert.ThrowsAsync<InvalidOperationException>(() => leader.WaitAsync(GateTimeout));
        string[] values = await Task.WhenAll(followers).WaitAsync(GateTimeout);
        Assert.All(values, v => Assert.StartsWith("own ", v));
        Assert.Equal(6, runs);
    }

    [Fact]
    public async Task Invalidations_of_other_entries_while_a_load_runs_do_not_break_single_flight()
    {
        var entry = new CacheEntryOptions { Namespace = "team:3", Tags = ["reports"], KeyPrefix = "report" };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int runs = 0;
        ValueTask<string> Load() => H.Cache.GetOrCreateAsync("report:4", async _ =>
        {
            Interlocked.Increment(ref runs);
            await gate.Task;
            return "value";
        }, entry);
        Task<string> leader = Load().AsTask();
        SpinWait.SpinUntil(() => Volatile.Read(ref runs) == 1, GateTimeout);

        // Steady writes elsewhere: every kind of invalidation, none of them about this entry.
        await H.Cache.InvalidateKeysAsync(["report:5", "other:4"]);
        await H.Cache.InvalidatePatternAsync("other:*");
        await H.Cache.InvalidateTagAsync("comments");
        await H.Cache.InvalidateNamespaceAsync("team:4");
        await H.Cache.SetAsync("report:6", "warm");
        Task<string>[] followers = Enumerable.Range(0, 5).Select(_ => Load().AsTask()).ToArray();
        await Task.Delay(50);
        gate.SetResult();

        Assert.All(await Task.WhenAll(followers).WaitAsync(GateTimeout), v => Assert.Equal("value", v));
        Assert.Equal("value", await leader);
        Assert.Equal(1, runs);
    }

    public static TheoryData<string> InvalidationsOfTheEntry() => new() { "key", "pattern", "tag", "namespace" };

    [Theory]
    [MemberData(nameof(InvalidationsOfTheEntry))]
    public async Task A_caller_after_an_invalidation_of_the_entry_does_not_wait_for_the_load_that_started_before_it(string invalidation)
    {
        var entry = new CacheEntryOptions { Namespace = "team:3", Tags = ["reports"], KeyPrefix = "report" };
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int runs = 0;
        Task<string> leader = H.Cache.GetOrCreateAsync("report:7", async _ =>
        {
            Interlocked.Increment(ref runs);
            await gate.Task;
            return "old";
        }, entry).AsTask();
        SpinWait.SpinUntil(() => Volatile.Read(ref runs) == 1, GateTimeout);

        switch (invalidation)
        {
            case "key": await H.Cache.InvalidateKeysAsync(["report:7"]); break;
            case "pattern": await H.Cache.InvalidatePatternAsync("report:*"); break;
            case "tag": await H.Cache.InvalidateTagAsync("reports"); break;
            default: await H.Cache.InvalidateNamespaceAsync("team:3"); break;
        }

        // The load that began before the write may have read old data: the caller after it loads for itself at
        // once (the gate still holds the old load), and gets the new value.
        string after = await H.Cache.GetOrCreateAsync("report:7", _ => ValueTask.FromResult("new"), entry).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("new", after);
        gate.SetResult();
        Assert.Equal("old", await leader.WaitAsync(GateTimeout));
        // The old load's value is never stored. (After a namespace bump the old load still holds the key's lease,
        // so "new" was not stored either: the next read loads again.)
        Assert.NotEqual("old", await H.Cache.GetOrCreateAsync("report:7", _ => ValueTask.FromResult("newer"), entry));
    }
}

public sealed class InMemoryGetOrCreateSingleFlightTests : GetOrCreateSingleFlightTests
{
    protected override Task<StoreHarness> CreateHarnessAsync() => Task.FromResult<StoreHarness>(InMemoryHarness.Create());
}

[Collection("redis")]
public sealed class RedisGetOrCreateSingleFlightTests(RedisFixture redis) : GetOrCreateSingleFlightTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server);
}
