using System.Diagnostics;

namespace Caching.Diagnostics;

/// <summary>
/// The runtime's traces: an <see cref="ActivitySource"/> named <see cref="CachingMetrics.ActivitySourceName"/> (the
/// meter's name). Spans: <c>cache.miss</c> (a lookup that missed, from the lookup to the end of its load: the
/// handler's own spans are its children), <c>cache.store</c>, <c>cache.invalidate</c> (key, pattern, tag,
/// namespace, all) and <c>cache.store_failure</c> (a store call that failed; the request went on without the
/// cache). Attributes carry the key prefix template, never a key, pattern, tag or namespace value.
/// </summary>
internal static class CachingTelemetry
{
    /// <summary>Whether the entry was stored (on <c>cache.miss</c> and <c>cache.store</c>).</summary>
    public const string StoredTag = "cache.stored";

    /// <summary>Why a stale value answered a miss: <c>revalidating</c>, <c>error</c> or <c>timeout</c>.</summary>
    public const string StaleTag = "cache.stale";

    /// <summary>The store: <c>memory</c>, <c>redis</c> or <c>redis+local</c>.</summary>
    public const string StoreTag = "cache.store";

    /// <summary>Keys a pattern's scan returned.</summary>
    public const string KeysMatchedTag = "cache.keys_matched";

    /// <summary>Keys an invalidation deleted.</summary>
    public const string KeysDeletedTag = "cache.keys_deleted";

    /// <summary>The store operation that failed: <c>read</c> or <c>write</c>.</summary>
    public const string OperationTag = "cache.operation";

    // OpenTelemetry's semantic convention for the class of an error.
    private const string ErrorTypeTag = "error.type";

    public static readonly ActivitySource Source = new(CachingMetrics.ActivitySourceName, typeof(CachingTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the span of a lookup that missed, named after its key prefix template.</summary>
    public static Activity? StartMiss(string keyPrefix) => Start("cache.miss", "cache miss " + keyPrefix, keyPrefix);

    /// <summary>Starts the span of a store.</summary>
    public static Activity? StartStore(string keyPrefix, string store)
    {
        Activity? span = Start("cache.store", "cache store " + keyPrefix, keyPrefix);
        span?.SetTag(StoreTag, store);
        return span;
    }

    /// <summary>Starts the span of an invalidation of one kind: <c>key</c>, <c>pattern</c>, <c>tag</c>, <c>namespace</c> or <c>all</c>.</summary>
    public static Activity? StartInvalidation(string kind, string keyPrefix, string store)
    {
        Activity? span = Start("cache.invalidate", "cache invalidate " + kind, keyPrefix);
        span?.SetTag(CachingMetrics.InvalidationKindTag, kind);
        span?.SetTag(StoreTag, store);
        return span;
    }

    /// <summary>A store call failed and the caller went on without the cache: a short span that says so.</summary>
    public static void StoreFailed(string operation, string keyPrefix, Exception failure)
    {
        using Activity? span = Start("cache.store_failure", "cache store failure", keyPrefix);
        span?.SetTag(OperationTag, operation);
        Failed(span, failure);
    }

    /// <summary>Marks <paramref name="span"/> failed: status error, <c>error.type</c> and the exception as an event.</summary>
    public static void Failed(Activity? span, Exception failure)
    {
        if (span is null)
        {
            return;
        }

        span.SetStatus(ActivityStatusCode.Error, failure.Message);
        span.SetTag(ErrorTypeTag, failure.GetType().FullName);
        span.AddException(failure);
    }

    private static Activity? Start(string operation, string displayName, string keyPrefix)
    {
        Activity? span = Source.StartActivity(operation, ActivityKind.Internal);
        if (span is not null)
        {
            span.DisplayName = displayName;
            span.SetTag(CachingMetrics.KeyPrefixTag, keyPrefix);
        }

        return span;
    }
}
