using Caching.Diagnostics;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Caching.Runtime.Tests.Engine;

/// <summary>
/// <see cref="ICache.GetOrCreateAsync{T}"/> uses the key's lease as the endpoint runtime does: it takes it on a miss,
/// stores by compare-and-set, gives it back when nothing is stored, and (with
/// <see cref="CachingOptions.DistributedStampedeProtection"/>) waits for another caller's lease holder.
/// </summary>
public abstract class GetOrCreateLeaseTests : IAsyncLifetime
{
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);

    protected StoreHarness H { get; private set; } = null!;

    // The lease is what callers on different instances share; in one process, single flight would answer the
    // second caller first (GetOrCreateSingleFlightTests), so it is off here to exercise the lease alone.
    public async Task InitializeAsync() => H = await CreateHarnessAsync(o =>
    {
        o.DistributedStampedeProtection = true;
        o.CoalesceMisses = false;
    });

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure);

    public static TheoryData<string?> Namespaces() => new() { null, "user:7" };

    [Theory]
    [MemberData(nameof(Namespaces))]
    public async Task A_missed_TryGet_leaves_no_lease_that_keeps_the_next_load_from_storing(string? space)
    {
        var entry = new CacheEntryOptions { Namespace = space, KeyPrefix = "doc" };
        Assert.False((await H.Cache.TryGetAsync<string>("doc:1", entry)).Found);

        int loads = 0;
        await H.Cache.GetOrCreateAsync("doc:1", _ => { loads++; return ValueTask.FromResult("v1"); }, entry);
        Assert.Equal("v1", await H.Cache.GetOrCreateAsync("doc:1", _ => { loads++; return ValueTask.FromResult("v2"); }, entry));

        Assert.Equal(1, loads);
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public async Task A_factory_that_throws_or_returns_null_gives_the_lease_back(string? space)
    {
        var entry = new CacheEntryOptions { Namespace = space, KeyPrefix = "doc" };
        await Assert.ThrowsAsync<InvalidOperationException>(() => H.Cache.GetOrCreateAsync<string>("doc:2", _ => throw new InvalidOperationException("db down"), entry).AsTask());
        Assert.Null(await H.Store.GetAsync("doc:2"));

        Assert.Null(await H.Cache.GetOrCreateAsync("doc:2", _ => ValueTask.FromResult<string?>(null), entry));
        Assert.Null(await H.Store.GetAsync("doc:2"));

        Assert.Equal("v", await H.Cache.GetOrCreateAsync("doc:2", _ => ValueTask.FromResult("v"), entry));
        Assert.Equal(new CacheResult<string>(true, "v"), await H.Cache.TryGetAsync<string>("doc:2", entry));
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public async Task A_second_caller_waits_for_the_lease_holder_instead_of_loading(string? space)
    {
        var entry = new CacheEntryOptions { Namespace = space, KeyPrefix = "doc" };
        using var misses = new MetricCollector<long>(H.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CachingMetrics.MeterName, "caching.misses");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> holder = H.Cache.GetOrCreateAsync("doc:3", async _ =>
        {
            entered.SetResult();
            await release.Task;
            return "from holder";
        }, entry).AsTask();
        await entered.Task.WaitAsync(GateTimeout);

        int secondLoads = 0;
        Task<string> second = H.Cache.GetOrCreateAsync("doc:3", _ => { secondLoads++; return ValueTask.FromResult("from second"); }, entry).AsTask();
        await misses.WaitForMeasurementsAsync(2, GateTimeout); // the second caller has missed too
        release.SetResult();

        Assert.Equal("from holder", await holder.WaitAsync(GateTimeout));
        Assert.Equal("from holder", await second.WaitAsync(GateTimeout));
        Assert.Equal(0, secondLoads);
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public async Task A_waiting_caller_loads_and_stores_itself_when_the_holder_gives_up(string? space)
    {
        var entry = new CacheEntryOptions { Namespace = space, KeyPrefix = "doc" };
        using var misses = new MetricCollector<long>(H.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CachingMetrics.MeterName, "caching.misses");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fail = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> holder = H.Cache.GetOrCreateAsync("doc:4", async _ =>
        {
            entered.SetResult();
            return await fail.Task;
        }, entry).AsTask();
        await entered.Task.WaitAsync(GateTimeout);

        Task<string> second = H.Cache.GetOrCreateAsync("doc:4", _ => ValueTask.FromResult("from second"), entry).AsTask();
        await misses.WaitForMeasurementsAsync(2, GateTimeout);
        fail.SetException(new InvalidOperationException("db down"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => holder.WaitAsync(GateTimeout));
        Assert.Equal("from second", await second.WaitAsync(GateTimeout));
        Assert.Equal(new CacheResult<string>(true, "from second"), await H.Cache.TryGetAsync<string>("doc:4", entry));
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public async Task A_waiting_caller_does_not_take_a_value_the_holder_was_refused_after_an_invalidation(string? space)
    {
        // The holder loads old data, the key is invalidated, the holder's store fails and it gives the lease back;
        // the waiting caller then loads (after the invalidation) and stores the fresh value.
        var entry = new CacheEntryOptions { Namespace = space, KeyPrefix = "doc" };
        using var misses = new MetricCollector<long>(H.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CachingMetrics.MeterName, "caching.misses");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> holder = H.Cache.GetOrCreateAsync("doc:5", async _ =>
        {
            entered.SetResult();
            await release.Task;
            return "old";
        }, entry).AsTask();
        await entered.Task.WaitAsync(GateTimeout);

        Task<string> second = H.Cache.GetOrCreateAsync("doc:5", _ => ValueTask.FromResult("new"), entry).AsTask();
        await misses.WaitForMeasurementsAsync(2, GateTimeout);
        await H.Cache.InvalidateKeysAsync(["doc:5"]);
        release.SetResult();

        Assert.Equal("old", await holder.WaitAsync(GateTimeout));
        Assert.Equal("new", await second.WaitAsync(GateTimeout));
        Assert.Equal(new CacheResult<string>(true, "new"), await H.Cache.TryGetAsync<string>("doc:5", entry));
    }
}

public sealed class InMemoryGetOrCreateLeaseTests : GetOrCreateLeaseTests
{
    protected override Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => Task.FromResult<StoreHarness>(InMemoryHarness.Create(configure));
}

[Collection("redis")]
public sealed class RedisGetOrCreateLeaseTests(RedisFixture redis) : GetOrCreateLeaseTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => await RedisHarness.CreateAsync(redis.Server, configure);
}

[Collection("redis")]
public sealed class TwoLevelGetOrCreateLeaseTests(RedisFixture redis) : GetOrCreateLeaseTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure)
        => await RedisHarness.CreateAsync(redis.Server, o =>
        {
            o.LocalCache = true;
            configure(o);
        });
}
