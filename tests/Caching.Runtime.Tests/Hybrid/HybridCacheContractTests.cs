using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.Runtime.Tests.Hybrid;

/// <summary>
/// HybridCache's documented contract, written once and run against our implementation on every store and against
/// Microsoft's own (<c>AddHybridCache()</c>) where the behaviour must match.
/// </summary>
public abstract class HybridCacheContractTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    protected HybridSubject S { get; private set; } = null!;

    protected HybridCache Cache => S.Cache;

    public async Task InitializeAsync() => S = await CreateAsync(null);

    public async Task DisposeAsync() => await S.DisposeAsync();

    /// <summary>A new subject; <paramref name="register"/> adds the test's own services.</summary>
    protected abstract Task<HybridSubject> CreateAsync(Action<IServiceCollection>? register);

    private static Func<CancellationToken, ValueTask<Report>> Counting(Box<int> calls, string name = "r", int version = 1)
        => _ =>
        {
            Interlocked.Increment(ref calls.Value);
            return ValueTask.FromResult(new Report { Name = name, Version = version });
        };

    // GetOrCreateAsync without state, through the abstraction's own stateless overload.
    private ValueTask<Report> GetAsync(string key, Func<CancellationToken, ValueTask<Report>> factory, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
        => Cache.GetOrCreateAsync(key, factory, options, tags, cancellationToken);

    [Fact]
    public async Task GetOrCreate_runs_the_factory_once_then_hits()
    {
        var calls = new Box<int>();

        Report first = await GetAsync("report:1", Counting(calls, "top", 3));
        Report second = await GetAsync("report:1", Counting(calls, "other", 9));

        Assert.Equal(1, calls.Value);
        Assert.Equal(("top", 3), (first.Name, first.Version));
        Assert.Equal(("top", 3), (second.Name, second.Version));
    }

    [Fact]
    public async Task Concurrent_callers_of_one_key_run_the_factory_once()
    {
        int calls = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<Report> Slow(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return new Report { Name = "slow", Version = 1 };
        }

        Task<Report>[] callers = Enumerable.Range(0, 20).Select(_ => GetAsync("report:stampede", Slow).AsTask()).ToArray();
        await Task.Delay(200); // every caller has reached the cache and waits on the one load
        release.SetResult();
        Report[] results = await Task.WhenAll(callers).WaitAsync(Wait);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("slow", r.Name));
    }

    [Fact]
    public async Task SetAsync_then_GetOrCreate_reads_the_value_without_the_factory()
    {
        var calls = new Box<int>();
        await Cache.SetAsync("report:set", new Report { Name = "set", Version = 7 });

        Report read = await GetAsync("report:set", Counting(calls));

        Assert.Equal(0, calls.Value);
        Assert.Equal(("set", 7), (read.Name, read.Version));
    }

    [Fact]
    public async Task RemoveAsync_removes_one_key_and_several_keys()
    {
        var calls = new Box<int>();
        foreach (string key in new[] { "report:a", "report:b", "report:c", "report:d" })
        {
            await GetAsync(key, Counting(calls));
        }

        await Cache.RemoveAsync("report:a");
        await Cache.RemoveAsync(["report:b", "report:c"]);
        foreach (string key in new[] { "report:a", "report:b", "report:c", "report:d" })
        {
            await GetAsync(key, Counting(calls));
        }

        Assert.Equal(4 + 3, calls.Value);
    }

    [Fact]
    public async Task RemoveByTagAsync_removes_the_tagged_entries_only()
    {
        var calls = new Box<int>();
        await GetAsync("report:t1", Counting(calls), tags: ["reports", "authors"]);
        await GetAsync("report:t2", Counting(calls), tags: ["authors"]);
        await GetAsync("report:t3", Counting(calls), tags: ["other"]);

        await Cache.RemoveByTagAsync("authors");
        await GetAsync("report:t1", Counting(calls), tags: ["reports", "authors"]);
        await GetAsync("report:t2", Counting(calls), tags: ["authors"]);
        await GetAsync("report:t3", Counting(calls), tags: ["other"]);

        Assert.Equal(3 + 2, calls.Value);

        await Cache.RemoveByTagAsync(["other", "nothing"]);
        await GetAsync("report:t3", Counting(calls), tags: ["other"]);
        Assert.Equal(3 + 2 + 1, calls.Value);
    }

    [Fact]
    public async Task RemoveByTagAsync_star_removes_every_entry()
    {
        var calls = new Box<int>();
        await GetAsync("report:s1", Counting(calls), tags: ["x"]);
        await GetAsync("report:s2", Counting(calls));

        await Cache.RemoveByTagAsync("*");
        await GetAsync("report:s1", Counting(calls), tags: ["x"]);
        await GetAsync("report:s2", Counting(calls));

        Assert.Equal(4, calls.Value);
    }

    [Fact]
    public async Task The_entry_expiration_is_honoured()
    {
        var calls = new Box<int>();
        var options = new HybridCacheEntryOptions { Expiration = S.ShortTtl, LocalCacheExpiration = S.ShortTtl };

        await GetAsync("report:ttl", Counting(calls), options);
        await GetAsync("report:ttl", Counting(calls), options);
        Assert.Equal(1, calls.Value);

        await S.AdvanceAsync(S.ShortTtl * 2.5);
        await GetAsync("report:ttl", Counting(calls), options);
        Assert.Equal(2, calls.Value);
    }

    [Fact]
    public async Task DisableUnderlyingData_answers_default_on_a_miss_and_the_value_on_a_hit()
    {
        var calls = new Box<int>();
        var readOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };

        Assert.Null(await GetAsync("report:nodata", Counting(calls), readOnly));
        await Cache.SetAsync("report:nodata", new Report { Name = "there", Version = 2 });
        Report? found = await GetAsync("report:nodata", Counting(calls), readOnly);

        Assert.Equal(0, calls.Value);
        Assert.Equal("there", found?.Name);
    }

    [Fact]
    public async Task Without_cache_writes_the_factory_runs_every_time()
    {
        var calls = new Box<int>();
        var noWrite = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite };

        await GetAsync("report:nowrite", Counting(calls), noWrite);
        await GetAsync("report:nowrite", Counting(calls), noWrite);
        await GetAsync("report:nowrite", Counting(calls, "stored"));

        Assert.Equal(3, calls.Value);
    }

    [Fact]
    public async Task Without_cache_reads_the_factory_runs_and_its_value_replaces_the_entry()
    {
        var calls = new Box<int>();
        var noRead = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableDistributedCacheRead };
        await Cache.SetAsync("report:noread", new Report { Name = "old", Version = 1 });

        Report loaded = await GetAsync("report:noread", Counting(calls, "new", 2), noRead);
        Report read = await GetAsync("report:noread", Counting(calls, "unused", 3));

        Assert.Equal(1, calls.Value);
        Assert.Equal("new", loaded.Name);
        Assert.Equal("new", read.Name);
    }

    [Fact]
    public async Task A_factory_exception_propagates_and_nothing_is_stored()
    {
        var calls = new Box<int>();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await GetAsync("report:fails", _ => throw new InvalidOperationException("database down")));
        Report after = await GetAsync("report:fails", Counting(calls, "recovered"));

        Assert.Equal(1, calls.Value);
        Assert.Equal("recovered", after.Name);
    }

    [Fact]
    public async Task A_cancelled_caller_gets_OperationCanceledException_and_nothing_is_stored()
    {
        using var cts = new CancellationTokenSource();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<Report> cancelled = GetAsync(
            "report:cancel",
            async token =>
            {
                entered.SetResult();
                await Task.Delay(Timeout.Infinite, token);
                return new Report { Name = "never" };
            },
            cancellationToken: cts.Token).AsTask();
        await entered.Task.WaitAsync(Wait);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Wait));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await GetAsync("report:cancel2", Counting(new Box<int>()), cancellationToken: cts.Token));
        var calls = new Box<int>();
        Assert.Equal("after", (await GetAsync("report:cancel", Counting(calls, "after"))).Name);
        Assert.Equal(1, calls.Value);
    }

    [Fact]
    public async Task A_registered_serializer_is_used_in_both_directions()
    {
        var serializer = new MarkingReportSerializer();
        await using HybridSubject subject = await CreateAsync(s => s.AddSingleton<IHybridCacheSerializer<Report>>(serializer));
        var calls = new Box<int>();

        await subject.Cache.GetOrCreateAsync("report:custom", Counting(calls, "custom", 4));
        Report read = await subject.Cache.GetOrCreateAsync("report:custom", Counting(calls, "unused", 5));

        Assert.Equal(1, calls.Value);
        Assert.True(serializer.Serialized >= 1);
        Assert.True(serializer.Deserialized >= 1);
        Assert.Equal(("custom", 4, "marking"), (read.Name, read.Version, read.ReadBy));
    }

    [Fact]
    public async Task A_registered_serializer_factory_is_used()
    {
        var serializer = new MarkingReportSerializer();
        await using HybridSubject subject = await CreateAsync(s => s.AddSingleton<IHybridCacheSerializerFactory>(new MarkingFactory(serializer)));

        await subject.Cache.SetAsync("report:factory", new Report { Name = "f", Version = 1 });
        Report read = await subject.Cache.GetOrCreateAsync("report:factory", _ => ValueTask.FromResult(new Report()));

        Assert.Equal(("f", "marking"), (read.Name, read.ReadBy));
        Assert.True(serializer.Serialized >= 1);
    }
}

/// <summary>A mutable box a lambda can count into.</summary>
public sealed class Box<T>
{
    public T Value = default!;
}

public sealed class MicrosoftHybridCacheContractTests : HybridCacheContractTests
{
    protected override Task<HybridSubject> CreateAsync(Action<IServiceCollection>? register) => Task.FromResult(HybridSubject.Microsofts(register));
}

public sealed class InMemoryHybridCacheContractTests : HybridCacheContractTests
{
    protected override Task<HybridSubject> CreateAsync(Action<IServiceCollection>? register) => Task.FromResult(HybridSubject.Ours(InMemoryHarness.Create(register: register)));
}

[Collection("redis")]
public sealed class RedisHybridCacheContractTests(RedisFixture redis) : HybridCacheContractTests
{
    protected override async Task<HybridSubject> CreateAsync(Action<IServiceCollection>? register) => HybridSubject.Ours(await RedisHarness.CreateAsync(redis.Server, register: register));
}

[Collection("redis")]
public sealed class TwoLevelHybridCacheContractTests(RedisFixture redis) : HybridCacheContractTests
{
    protected override async Task<HybridSubject> CreateAsync(Action<IServiceCollection>? register) => HybridSubject.Ours(await RedisHarness.CreateAsync(redis.Server, o => o.LocalCache = true, register));
}

[Collection("redis-cluster")]
public sealed class ClusterHybridCacheContractTests(RedisClusterFixture cluster) : HybridCacheContractTests
{
    protected override async Task<HybridSubject> CreateAsync(Action<IServiceCollection>? register) => HybridSubject.Ours(await RedisHarness.CreateAsync(cluster.Cluster, register: register));
}
