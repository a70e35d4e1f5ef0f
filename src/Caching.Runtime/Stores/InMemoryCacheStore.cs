using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Caching.Keys;
using Microsoft.Extensions.Options;

namespace Caching.Stores;

/// <summary>
/// The in-process store: the embedded default when no Redis is configured. Same contract as
/// <see cref="RedisCacheStore"/>, including Redis glob semantics; time comes from <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Expired entries are dropped when read and by a periodic sweep
/// (<see cref="CachingOptions.InMemorySweepInterval"/>), which also trims tag indexes and namespace versions,
/// so nothing outlives its time to live for long. The store has no size limit: bound it with expirations.
/// </remarks>
public sealed class InMemoryCacheStore : ICacheStore, IDisposable
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, long>> _tags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry> _namespaces = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly string _internalPrefix;
    private readonly ITimer _sweepTimer;

    /// <summary>Creates the store.</summary>
    /// <param name="options">The caching options.</param>
    /// <param name="timeProvider">The clock entries expire by.</param>
    public InMemoryCacheStore(IOptions<CachingOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
        _internalPrefix = options.Value.InternalKeyPrefix;
        TimeSpan interval = options.Value.InMemorySweepInterval;
        _sweepTimer = timeProvider.CreateTimer(static state => ((InMemoryCacheStore)state!).Sweep(), this, interval, interval);
    }

    /// <inheritdoc />
    public string Name => "memory";

    /// <summary>Number of entries held, expired ones not yet swept included.</summary>
    public int EntryCount => _entries.Count;

    /// <summary>Number of tag filings held (one per key and tag), expired ones not yet swept included.</summary>
    public int TagFilingCount => _tags.Values.Sum(static index => index.Count);

    /// <summary>Number of namespace versions held.</summary>
    public int NamespaceCount => _namespaces.Count;

    private long Now => _time.GetUtcNow().UtcTicks;

    // The clock entries expire by.
    internal TimeProvider Time => _time;

    /// <inheritdoc />
    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        return ValueTask.FromResult(TryGetLive(_entries, key, out Entry? entry) ? (byte[])entry.Value : null);
    }

    /// <inheritdoc />
    public ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        _entries[key] = new Entry(value.ToArray(), ExpiresAt(timeToLive));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<TimeSpan?> GetTimeToLiveAsync(string key, CancellationToken cancellationToken = default)
    {
        TimeSpan? ttl = TryGetLive(_entries, key, out Entry? entry) ? TimeSpan.FromTicks(entry.ExpiresAt - Now) : null;
        return ValueTask.FromResult(ttl);
    }

    /// <inheritdoc />
    public ValueTask<long> DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        long deleted = 0;
        long now = Now;
        foreach (string key in keys)
        {
            if (_entries.TryRemove(key, out Entry? entry) && entry.ExpiresAt > now)
            {
                deleted++;
            }
        }

        return ValueTask.FromResult(deleted);
    }

    /// <inheritdoc />
    public ValueTask<PatternDeleteResult> DeleteByPatternAsync(string pattern, CancellationToken cancellationToken = default)
    {
        byte[] patternBytes = Encoding.UTF8.GetBytes(pattern);
        byte[] keyBuffer = ArrayPool<byte>.Shared.Rent(256);
        long matched = 0;
        long deleted = 0;
        long now = Now;
        try
        {
            // Enumerating a ConcurrentDictionary is safe while it changes and holds no lock: like SCAN, it
            // returns every key present for the whole enumeration.
            foreach (KeyValuePair<string, Entry> pair in _entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string key = pair.Key;
                if (key.StartsWith(_internalPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                int needed = Encoding.UTF8.GetMaxByteCount(key.Length);
                if (needed > keyBuffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(keyBuffer);
                    keyBuffer = ArrayPool<byte>.Shared.Rent(needed);
                }

                int length = Encoding.UTF8.GetBytes(key, keyBuffer);
                if (!RedisGlob.IsMatch(patternBytes, keyBuffer.AsSpan(0, length)))
                {
                    continue;
                }

                if (pair.Value.ExpiresAt > now)
                {
                    matched++;
                }

                // Removed by key, as UNLINK does: a value stored under it meanwhile (a lease filled with data loaded
                // before this invalidation) goes too.
                if (_entries.TryRemove(key, out Entry? removed) && removed.ExpiresAt > now)
                {
                    deleted++;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(keyBuffer);
        }

        return ValueTask.FromResult(new PatternDeleteResult(matched, deleted));
    }

    /// <inheritdoc />
    public ValueTask AddToTagsAsync(string key, IReadOnlyCollection<string> tags, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        long expiresAt = ExpiresAt(timeToLive);
        foreach (string tag in tags)
        {
            ConcurrentDictionary<string, long> index = _tags.GetOrAdd(tag, static _ => new ConcurrentDictionary<string, long>(StringComparer.Ordinal));
            index.AddOrUpdate(key, static (_, added) => added, static (_, existing, added) => Math.Max(existing, added), expiresAt);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        // The filings stay until they expire: an entry stored again under this tag while the invalidation runs
        // is still filed, so the next invalidation finds it.
        if (!_tags.TryGetValue(tag, out ConcurrentDictionary<string, long>? index))
        {
            return ValueTask.FromResult(0L);
        }

        return DeleteAsync(index.Keys.ToArray(), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> TryAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        var entry = new Entry(lease.ToArray(), ExpiresAt(timeToLive));
        while (true)
        {
            if (_entries.TryAdd(key, entry))
            {
                return ValueTask.FromResult(true);
            }

            if (TryGetLive(_entries, key, out _))
            {
                return ValueTask.FromResult(false);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> SetIfLeaseAsync(string key, ReadOnlyMemory<byte> lease, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        bool stored = TryGetLive(_entries, key, out Entry? current)
            && ((byte[])current.Value).AsSpan().SequenceEqual(lease.Span)
            && _entries.TryUpdate(key, new Entry(value.ToArray(), ExpiresAt(timeToLive)), current);
        return ValueTask.FromResult(stored);
    }

    /// <inheritdoc />
    public ValueTask ReleaseLeaseAsync(string key, ReadOnlyMemory<byte> lease, CancellationToken cancellationToken = default)
    {
        if (_entries.TryGetValue(key, out Entry? current) && ((byte[])current.Value).AsSpan().SequenceEqual(lease.Span))
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(key, current));
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<string?> GetNamespaceVersionAsync(string namespaceName, CancellationToken cancellationToken = default)
    {
        return ValueTask.FromResult(TryGetLive(_namespaces, namespaceName, out Entry? entry) ? (string?)entry.Value : null);
    }

    /// <inheritdoc />
    public ValueTask<bool> TryCreateNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        var created = new Entry(version, ExpiresAt(lifetime));
        while (true)
        {
            if (_namespaces.TryAdd(namespaceName, created))
            {
                return ValueTask.FromResult(true);
            }

            if (_namespaces.TryGetValue(namespaceName, out Entry? existing))
            {
                if (existing.ExpiresAt > Now)
                {
                    return ValueTask.FromResult(false);
                }

                // Expired: it counts as absent, as in Redis.
                _namespaces.TryRemove(new KeyValuePair<string, Entry>(namespaceName, existing));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask SetNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        _namespaces[namespaceName] = new Entry(version, ExpiresAt(lifetime));
        return ValueTask.CompletedTask;
    }

    /// <summary>Drops every entry, tag filing and namespace version.</summary>
    public void Clear()
    {
        _entries.Clear();
        _tags.Clear();
        _namespaces.Clear();
    }

    /// <summary>Returns the keys of live entries (for diagnostics and tests; a snapshot).</summary>
    /// <returns>The keys.</returns>
    public IEnumerable<string> LiveKeys()
    {
        long now = Now;
        return _entries.Where(pair => pair.Value.ExpiresAt > now).Select(static pair => pair.Key).ToArray();
    }

    /// <summary>Drops expired entries, tag filings and namespace versions now (also run by a timer).</summary>
    public void Sweep()
    {
        long now = Now;
        foreach (KeyValuePair<string, Entry> pair in _entries)
        {
            if (pair.Value.ExpiresAt <= now)
            {
                _entries.TryRemove(pair);
            }
        }

        foreach (KeyValuePair<string, Entry> pair in _namespaces)
        {
            if (pair.Value.ExpiresAt <= now)
            {
                _namespaces.TryRemove(pair);
            }
        }

        foreach (KeyValuePair<string, ConcurrentDictionary<string, long>> tag in _tags)
        {
            foreach (KeyValuePair<string, long> filing in tag.Value)
            {
                if (filing.Value <= now)
                {
                    tag.Value.TryRemove(filing);
                }
            }

            if (tag.Value.IsEmpty && _tags.TryRemove(tag))
            {
                // A filing may have landed between the check and the removal: put it back rather than lose it.
                foreach (KeyValuePair<string, long> late in tag.Value)
                {
                    _tags.GetOrAdd(tag.Key, static _ => new ConcurrentDictionary<string, long>(StringComparer.Ordinal))
                        .AddOrUpdate(late.Key, static (_, added) => added, static (_, existing, added) => Math.Max(existing, added), late.Value);
                }
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _sweepTimer.Dispose();

    private long ExpiresAt(TimeSpan timeToLive) => Now + timeToLive.Ticks;

    private bool TryGetLive(ConcurrentDictionary<string, Entry> map, string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? entry)
    {
        if (map.TryGetValue(key, out entry))
        {
            if (entry.ExpiresAt > Now)
            {
                return true;
            }

            map.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }

        entry = null;
        return false;
    }

    private sealed record Entry(object Value, long ExpiresAt);
}
