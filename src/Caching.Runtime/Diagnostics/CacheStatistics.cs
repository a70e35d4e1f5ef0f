using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Caching.Diagnostics;

/// <summary>Counts for one key prefix since the application started.</summary>
/// <param name="KeyPrefix">The key prefix template.</param>
/// <param name="Hits">Lookups that found a live entry.</param>
/// <param name="Misses">Lookups that found none.</param>
/// <param name="Sets">Entries stored.</param>
/// <param name="Invalidations">Invalidations run.</param>
/// <param name="KeysDeleted">Entries deleted by invalidations.</param>
public sealed record KeyPrefixStatistics(string KeyPrefix, long Hits, long Misses, long Sets, long Invalidations, long KeysDeleted)
{
    /// <summary>Hits divided by lookups; 0 when there were none.</summary>
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}

/// <summary>
/// Per-prefix totals read from the runtime's own <see cref="CachingMetrics"/> instruments through a
/// <see cref="MeterListener"/>, for a statistics endpoint or a health page. Counts only this application's
/// meter, so several hosts in one process do not mix.
/// </summary>
public sealed class CacheStatistics : IDisposable
{
    private readonly ConcurrentDictionary<string, long[]> _counts = new(StringComparer.Ordinal);
    private readonly MeterListener _listener = new();

    /// <summary>Starts listening.</summary>
    /// <param name="metrics">The runtime's metrics.</param>
    public CacheStatistics(CachingMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Meter meter = metrics.Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && Slot(instrument.Name) >= 0)
            {
                listener.EnableMeasurementEvents(instrument, Slot(instrument.Name));
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => Record((int)state!, value, tags));
        _listener.Start();
    }

    /// <summary>The totals per key prefix, ordered by prefix.</summary>
    /// <returns>A snapshot.</returns>
    public IReadOnlyList<KeyPrefixStatistics> Snapshot()
    {
        return _counts
            .OrderBy(static pair => pair.Key, StringComparer.Ordinal)
            .Select(static pair => new KeyPrefixStatistics(
                pair.Key,
                Interlocked.Read(ref pair.Value[0]),
                Interlocked.Read(ref pair.Value[1]),
                Interlocked.Read(ref pair.Value[2]),
                Interlocked.Read(ref pair.Value[3]),
                Interlocked.Read(ref pair.Value[4])))
            .ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private static int Slot(string instrument) => instrument switch
    {
        "caching.hits" => 0,
        "caching.misses" => 1,
        "caching.sets" => 2,
        "caching.invalidations" => 3,
        "caching.keys_deleted" => 4,
        _ => -1,
    };

    private void Record(int slot, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string prefix = CacheEngine.UnspecifiedKeyPrefix;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == CachingMetrics.KeyPrefixTag && tag.Value is string text)
            {
                prefix = text;
            }
        }

        long[] counts = _counts.GetOrAdd(prefix, static _ => new long[5]);
        Interlocked.Add(ref counts[slot], value);
    }
}
