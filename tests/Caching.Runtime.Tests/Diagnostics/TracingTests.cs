using System.Collections.Concurrent;
using System.Diagnostics;
using Caching.Diagnostics;
using Caching.Runtime.Tests.Infrastructure;

namespace Caching.Runtime.Tests.Diagnostics;

/// <summary>
/// Collects the spans of one test: every activity of the <c>Caching</c> source and of the test's own source that
/// belongs to the trace the test started (tests of other classes run at the same time).
/// </summary>
public sealed class SpanCollector : IDisposable
{
    public static readonly ActivitySource TestSource = new("Caching.Tests");

    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly Activity _root;

    public SpanCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is CachingMetrics.ActivitySourceName or "Caching.Tests",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => _stopped.Enqueue(activity),
        };
        ActivitySource.AddActivityListener(_listener);
        _root = TestSource.StartActivity("test root")!;
    }

    /// <summary>The finished spans of this test's trace.</summary>
    public IReadOnlyList<Activity> Spans => _stopped.Where(a => a.TraceId == _root.TraceId && a != _root).ToList();

    public IReadOnlyList<Activity> Named(string operation) => Spans.Where(a => a.OperationName == operation).ToList();

    /// <summary>Every attribute value and the display name of every span, to check that no key value leaks.</summary>
    public IEnumerable<string> AllText() => Spans.SelectMany(a => a.TagObjects.Select(t => t.Value?.ToString() ?? "").Append(a.DisplayName));

    public void Dispose()
    {
        _root.Stop();
        _listener.Dispose();
    }
}

/// <summary>The <c>Caching</c> activity source: misses, stores, invalidations and store failures, never a key value.</summary>
public abstract class TracingTests : IAsyncLifetime
{
    private const string Secret = "secret-4711";

    protected StoreHarness H { get; private set; } = null!;

    public async Task InitializeAsync() => H = await CreateHarnessAsync();

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync();

    private static CacheEntryOptions Entry(string[]? tags = null, string? space = null) => new() { KeyPrefix = "doc_{id}", Tags = tags, Namespace = space };

    [Fact]
    public async Task A_miss_is_a_span_around_the_factorys_spans_and_the_store_and_a_hit_records_none()
    {
        using var spans = new SpanCollector();
        async ValueTask<string> Load(CancellationToken _)
        {
            using Activity? query = SpanCollector.TestSource.StartActivity("db.query");
            await Task.Yield();
            return "value";
        }

        await H.Cache.GetOrCreateAsync("doc:" + Secret, Load, Entry());
        await H.Cache.GetOrCreateAsync("doc:" + Secret, Load, Entry());

        Activity miss = Assert.Single(spans.Named("cache.miss"));
        Assert.Equal("cache miss doc_{id}", miss.DisplayName);
        Assert.Equal("doc_{id}", miss.GetTagItem(CachingMetrics.KeyPrefixTag));
        Assert.Equal(true, miss.GetTagItem("cache.stored"));
        Activity query = Assert.Single(spans.Named("db.query"));
        Assert.Equal(miss.SpanId, query.ParentSpanId);
        Activity store = Assert.Single(spans.Named("cache.store"));
        Assert.Equal(miss.SpanId, store.ParentSpanId);
        Assert.Equal(true, store.GetTagItem("cache.stored"));
        Assert.Equal(H.Store.Name, store.GetTagItem("cache.store"));
        Assert.DoesNotContain(spans.AllText(), text => text.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Each_invalidation_is_a_span_with_its_kind_and_counts_and_no_values()
    {
        await H.Cache.SetAsync("doc:1:" + Secret, "v", Entry(tags: ["tag-" + Secret]));
        await H.Cache.SetAsync("doc:2:" + Secret, "v", Entry());
        await H.Cache.SetAsync("doc:3:" + Secret, "v", Entry(space: "ns-" + Secret));
        await H.Cache.SetAsync("doc:4:" + Secret, "v", Entry());
        using var spans = new SpanCollector();

        await H.Cache.InvalidateKeysAsync(["doc:2:" + Secret]);
        await H.Cache.InvalidatePatternAsync("doc:1:" + Secret + "*");
        await H.Cache.InvalidateTagAsync("tag-" + Secret);
        await H.Cache.InvalidateNamespaceAsync("ns-" + Secret);
        await H.Cache.InvalidateAllAsync();

        IReadOnlyList<Activity> invalidations = spans.Named("cache.invalidate");
        Assert.Equal(["key", "pattern", "tag", "namespace", "all"], invalidations.OrderBy(a => a.StartTimeUtc).Select(a => (string?)a.GetTagItem(CachingMetrics.InvalidationKindTag)));
        Activity key = invalidations.Single(a => (string?)a.GetTagItem(CachingMetrics.InvalidationKindTag) == "key");
        Assert.Equal(1L, key.GetTagItem("cache.keys_deleted"));
        Activity pattern = invalidations.Single(a => (string?)a.GetTagItem(CachingMetrics.InvalidationKindTag) == "pattern");
        Assert.Equal(1L, pattern.GetTagItem("cache.keys_matched"));
        Assert.Equal(1L, pattern.GetTagItem("cache.keys_deleted"));
        Activity all = invalidations.Single(a => (string?)a.GetTagItem(CachingMetrics.InvalidationKindTag) == "all");
        Assert.True((long)all.GetTagItem("cache.keys_deleted")! >= 1); // doc:3 (its namespace moved on) and doc:4
        Assert.All(invalidations, a => Assert.Equal(ActivityStatusCode.Unset, a.Status));
        Assert.DoesNotContain(spans.AllText(), text => text.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_the_cache_switched_off_nothing_is_traced_as_a_miss()
    {
        await using InMemoryHarness off = InMemoryHarness.Create(o => o.Enabled = false);
        using var spans = new SpanCollector();

        await off.Cache.GetOrCreateAsync("doc:1", _ => ValueTask.FromResult("v"), Entry());

        Assert.Empty(spans.Named("cache.miss"));
        Assert.Empty(spans.Named("cache.store"));
    }
}

public sealed class InMemoryTracingTests : TracingTests
{
    protected override Task<StoreHarness> CreateHarnessAsync() => Task.FromResult<StoreHarness>(InMemoryHarness.Create());
}

[Collection("redis")]
public sealed class RedisTracingTests(RedisFixture redis) : TracingTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server);
}

[Collection("redis-cluster")]
public sealed class RedisClusterTracingTests(RedisClusterFixture cluster) : TracingTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(cluster.Cluster);
}

/// <summary>A store that fails: the request goes on without the cache, and a failed span says so.</summary>
[Collection("outages")]
public sealed class StoreFailureTracingTests
{
    [Fact]
    public async Task A_read_that_fails_open_is_a_failed_store_span_and_the_miss_stores_nothing()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        await using RedisHarness harness = await RedisHarness.CreateAsync(redis);
        redis.Kill();
        using var spans = new SpanCollector();

        Assert.Equal("fresh", await harness.Cache.GetOrCreateAsync("report:9", _ => ValueTask.FromResult("fresh"), new CacheEntryOptions { KeyPrefix = "report" }));

        Activity failure = Assert.Single(spans.Named("cache.store_failure"));
        Assert.Equal(ActivityStatusCode.Error, failure.Status);
        Assert.Equal("read", failure.GetTagItem("cache.operation"));
        Assert.Equal("report", failure.GetTagItem(CachingMetrics.KeyPrefixTag));
        Assert.NotNull(failure.GetTagItem("error.type"));
        Assert.Contains(failure.Events, e => e.Name == "exception");
        Assert.Equal(false, Assert.Single(spans.Named("cache.miss")).GetTagItem("cache.stored"));
    }
}
