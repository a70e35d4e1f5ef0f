using System.Diagnostics.Metrics;

namespace Caching.Diagnostics;

/// <summary>
/// The runtime's <see cref="Meter"/>, named <see cref="MeterName"/>. Every measurement carries the
/// <c>cache.key_prefix</c> tag: the attribute's key prefix template (such as <c>user_{userId}_posts</c>,
/// never a formatted value, so the number of distinct tags stays small) or the prefix given to <see cref="ICache"/>.
/// </summary>
public sealed class CachingMetrics
{
    /// <summary>The meter's name, to subscribe with OpenTelemetry or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "Caching";

    /// <summary>
    /// The name of the runtime's <see cref="System.Diagnostics.ActivitySource"/> (the meter's name): subscribe with
    /// OpenTelemetry's <c>AddSource("Caching")</c>. Spans: <c>cache.miss</c>, <c>cache.store</c>,
    /// <c>cache.invalidate</c> and <c>cache.store_failure</c>, tagged with the key prefix template, never a key value.
    /// </summary>
    public const string ActivitySourceName = MeterName;

    /// <summary>The tag naming the key prefix.</summary>
    public const string KeyPrefixTag = "cache.key_prefix";

    /// <summary>The tag naming the kind of an invalidation: <c>key</c>, <c>pattern</c>, <c>tag</c> or <c>namespace</c>.</summary>
    public const string InvalidationKindTag = "cache.invalidation_kind";

    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;
    private readonly Counter<long> _sets;
    private readonly Counter<long> _stale;
    private readonly Counter<long> _invalidations;
    private readonly Counter<long> _keysDeleted;
    private readonly Histogram<double> _invalidationDuration;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public CachingMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter meter = meterFactory.Create(MeterName);
        Meter = meter;
        _hits = meter.CreateCounter<long>("caching.hits", "{lookup}", "Lookups that found a live entry.");
        _misses = meter.CreateCounter<long>("caching.misses", "{lookup}", "Lookups that found no live entry.");
        _sets = meter.CreateCounter<long>("caching.sets", "{entry}", "Entries stored.");
        _stale = meter.CreateCounter<long>("caching.stale_served", "{response}", "Values served past their expiration: while one reload ran (stale-while-revalidate), because the reload failed (stale-if-error), or because it was slower than the soft timeout.");
        _invalidations = meter.CreateCounter<long>("caching.invalidations", "{invalidation}", "Invalidations run (one per key list, pattern, tag or namespace).");
        _keysDeleted = meter.CreateCounter<long>("caching.keys_deleted", "{key}", "Entries deleted by invalidations.");
        _invalidationDuration = meter.CreateHistogram<double>("caching.invalidation.duration", "s", "Time an invalidation took.");
    }

    /// <summary>The meter the instruments belong to.</summary>
    public Meter Meter { get; }

    internal void Hit(string keyPrefix) => _hits.Add(1, new KeyValuePair<string, object?>(KeyPrefixTag, keyPrefix));

    internal void Miss(string keyPrefix) => _misses.Add(1, new KeyValuePair<string, object?>(KeyPrefixTag, keyPrefix));

    internal void Set(string keyPrefix) => _sets.Add(1, new KeyValuePair<string, object?>(KeyPrefixTag, keyPrefix));

    // reason: "revalidating" (stale-while-revalidate), "error" (stale-if-error) or "timeout" (soft timeout).
    internal void StaleServed(string keyPrefix, string reason)
        => _stale.Add(1, new KeyValuePair<string, object?>(KeyPrefixTag, keyPrefix), new KeyValuePair<string, object?>("caching.stale.reason", reason));

    internal void Invalidated(string keyPrefix, string kind, long keysDeleted, TimeSpan elapsed)
    {
        var prefix = new KeyValuePair<string, object?>(KeyPrefixTag, keyPrefix);
        var kindTag = new KeyValuePair<string, object?>(InvalidationKindTag, kind);
        _invalidations.Add(1, prefix, kindTag);
        if (keysDeleted > 0)
        {
            _keysDeleted.Add(keysDeleted, prefix, kindTag);
        }

        _invalidationDuration.Record(elapsed.TotalSeconds, prefix, kindTag);
    }
}
