using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Caching.Keys;
using Caching.Stores.Eviction;
using Microsoft.Extensions.Options;

namespace Caching.Stores;

/// <summary>
/// The in-process store: the embedded default when no Redis is configured. Same contract as
/// <see cref="RedisCacheStore"/>, including Redis glob semantics; time comes from <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Expired entries are dropped when read and by a periodic sweep
/// (<see cref="CachingOptions.InMemorySweepInterval"/>), which also trims tag indexes and namespace versions,
/// so nothing outlives its time to live for long. What it holds (keys, values, leases, tag filings, namespace
/// versions) is kept within <see cref="CachingOptions.InMemorySizeLimit"/> bytes by an <see cref="EvictionPolicy"/>:
/// an evicted or refused entry behaves exactly as an expired one (a read misses, a lease's holder can no longer fill
/// it), so eviction can make the cache forget a value but never serve a wrong one.
/// Reads take no lock; every change takes one write lock, which keeps the dictionaries and the accounting in step.
/// </remarks>
public sealed class InMemoryCacheStore : ICacheStore, IDisposable
{
    private readonly ConcurrentDictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, long>> _tags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CacheEntry> _namespaces = new(StringComparer.Ordinal);
    private readonly Lock _writeLock = new();
    private readonly EvictionPolicy _policy;
    private readonly Action<CacheEntry> _evict;
    private readonly TimeProvider _time;
    private readonly string _internalPrefix;
    private readonly ITimer _sweepTimer;

    /// <summary>Creates the store.</summary>
    /// <param name="options">The caching options.</param>
    /// <param name="timeProvider">The clock entries expire by.</param>
    public InMemoryCacheStore(IOptions<CachingOptions> options, TimeProvider timeProvider)
        : this(options, timeProvider, EvictionPolicy.SampleSize)
    {
    }

    // With another eviction sample size: the eviction benchmark measures the shipped one against others.
    internal InMemoryCacheStore(IOptions<CachingOptions> options, TimeProvider timeProvider, int evictionSampleSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
        _internalPrefix = options.Value.InternalKeyPrefix;
        _policy = new EvictionPolicy(options.Value.InMemorySizeLimit, evictionSampleSize);
        _evict = victim => _entries.TryRemove(new KeyValuePair<string, CacheEntry>(victim.Key, victim));
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

    /// <summary>Bytes accounted against <see cref="CachingOptions.InMemorySizeLimit"/> now (entries, tag filings, namespace versions).</summary>
    public long SizeInBytes
    {
        get
        {
            lock (_writeLock)
            {
                return _policy.UsedBytes;
            }
        }
    }

    /// <summary>Entries evicted to stay within <see cref="CachingOptions.InMemorySizeLimit"/>, since the store was created.</summary>
    public long Evictions => _policy.Evictions;

    /// <summary>
    /// Values and leases not stored to stay within <see cref="CachingOptions.InMemorySizeLimit"/> (larger than it, or a
    /// new key less often asked for than what it would push out), since the store was created.
    /// </summary>
    public long Refusals => _policy.Refusals;

    private long Now => _time.GetUtcNow().UtcTicks;

    // The eviction policy, for tests and the eviction benchmark (sketch size, counts).
    internal EvictionPolicy Policy => _policy;

    // The clock entries expire by.
    internal TimeProvider Time => _time;

    /// <inheritdoc />
    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        // Counted hit or miss: admission compares how often keys are asked for, not how often they were found.
        _policy.RecordAccess(key);
        if (TryGetLive(_entries, key, out CacheEntry? entry))
        {
            _policy.Touch(entry);
            return ValueTask.FromResult<byte[]?>((byte[])entry.Value);
        }

        return ValueTask.FromResult<byte[]?>(null);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A value the policy refuses (larger than the limit, or a new key less popular than what it would push out) is
    /// not stored, and what the key held (an older value, a lease) is removed: as if it was stored and evicted at once.
    /// </remarks>
    public ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        var entry = NewEntry(key, value.ToArray(), ExpiresAt(timeToLive));
        lock (_writeLock)
        {
            _entries.TryGetValue(key, out CacheEntry? current);
            StoreLocked(entry, current);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<TimeSpan?> GetTimeToLiveAsync(string key, CancellationToken cancellationToken = default)
    {
        TimeSpan? ttl = TryGetLive(_entries, key, out CacheEntry? entry) ? TimeSpan.FromTicks(entry.ExpiresAt - Now) : null;
        return ValueTask.FromResult(ttl);
    }

    /// <inheritdoc />
    public ValueTask<long> DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        long deleted = 0;
        long now = Now;
        lock (_writeLock)
        {
            foreach (string key in keys)
            {
                if (_entries.TryRemove(key, out CacheEntry? entry))
                {
                    _policy.Remove(entry);
                    if (entry.ExpiresAt > now)
                    {
                        deleted++;
                    }
                }
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
            foreach (KeyValuePair<string, CacheEntry> pair in _entries)
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
                if (RemoveKey(key) is { } removed && removed.ExpiresAt > now)
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
        lock (_writeLock)
        {
            foreach (string tag in tags)
            {
                // Filings are pinned: they make room by evicting entries, but are never evicted themselves.
                if (!_tags.TryGetValue(tag, out ConcurrentDictionary<string, long>? index))
                {
                    index = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
                    _tags[tag] = index;
                    _policy.AddPinned(EntryWeights.TagIndex(tag), _evict);
                }

                if (index.TryAdd(key, expiresAt))
                {
                    _policy.AddPinned(EntryWeights.Filing(key), _evict);
                }
                else if (index[key] < expiresAt)
                {
                    index[key] = expiresAt;
                }
            }
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
        var entry = NewEntry(key, lease.ToArray(), ExpiresAt(timeToLive));
        lock (_writeLock)
        {
            if (_entries.TryGetValue(key, out CacheEntry? current))
            {
                if (current.ExpiresAt > Now)
                {
                    return ValueTask.FromResult(false);
                }

                RemoveLocked(current);
            }

            // Refused by the policy (a key not popular enough to get in), the lease is taken and evicted at once: the
            // load goes on, and its SetIfLeaseAsync finds no lease and stores nothing.
            StoreLocked(entry, current: null);
        }

        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask<bool> SetIfLeaseAsync(string key, ReadOnlyMemory<byte> lease, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        var entry = NewEntry(key, value.ToArray(), ExpiresAt(timeToLive));
        lock (_writeLock)
        {
            // An evicted or expired lease is gone: nothing is stored, exactly as after an invalidation.
            if (!_entries.TryGetValue(key, out CacheEntry? current)
                || current.ExpiresAt <= Now
                || !((byte[])current.Value).AsSpan().SequenceEqual(lease.Span))
            {
                return ValueTask.FromResult(false);
            }

            // The key got in when its lease did: the value replaces it without a second admission. Too large for the
            // limit, it is refused and the lease removed.
            return ValueTask.FromResult(StoreLocked(entry, current));
        }
    }

    /// <inheritdoc />
    public ValueTask ReleaseLeaseAsync(string key, ReadOnlyMemory<byte> lease, CancellationToken cancellationToken = default)
    {
        lock (_writeLock)
        {
            if (_entries.TryGetValue(key, out CacheEntry? current) && ((byte[])current.Value).AsSpan().SequenceEqual(lease.Span))
            {
                RemoveLocked(current);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<string?> GetNamespaceVersionAsync(string namespaceName, CancellationToken cancellationToken = default)
    {
        return ValueTask.FromResult(TryGetLive(_namespaces, namespaceName, out CacheEntry? entry) ? (string?)entry.Value : null);
    }

    /// <inheritdoc />
    public ValueTask<bool> TryCreateNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        lock (_writeLock)
        {
            if (_namespaces.TryGetValue(namespaceName, out CacheEntry? existing) && existing.ExpiresAt > Now)
            {
                return ValueTask.FromResult(false);
            }

            // Absent, or expired, which counts as absent, as in Redis.
            SetNamespaceLocked(namespaceName, version, lifetime);
        }

        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask SetNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        lock (_writeLock)
        {
            SetNamespaceLocked(namespaceName, version, lifetime);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Drops every entry, tag filing and namespace version.</summary>
    public void Clear()
    {
        lock (_writeLock)
        {
            _entries.Clear();
            _tags.Clear();
            _namespaces.Clear();
            _policy.Clear();
        }
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
        // The lock is taken per removal, not for the whole sweep: writes wait at most for one removal.
        long now = Now;
        foreach (KeyValuePair<string, CacheEntry> pair in _entries)
        {
            if (pair.Value.ExpiresAt <= now)
            {
                Remove(_entries, pair.Value);
            }
        }

        foreach (KeyValuePair<string, CacheEntry> pair in _namespaces)
        {
            if (pair.Value.ExpiresAt <= now)
            {
                Remove(_namespaces, pair.Value);
            }
        }

        foreach (KeyValuePair<string, ConcurrentDictionary<string, long>> tag in _tags)
        {
            foreach (KeyValuePair<string, long> filing in tag.Value)
            {
                if (filing.Value <= now)
                {
                    lock (_writeLock)
                    {
                        // Under the lock, a filing extended meanwhile (a later expiry) does not match and stays.
                        if (tag.Value.TryRemove(filing))
                        {
                            _policy.RemovePinned(EntryWeights.Filing(filing.Key));
                        }
                    }
                }
            }

            lock (_writeLock)
            {
                // Filings are added under the same lock: an index found empty here stays empty until removed.
                if (tag.Value.IsEmpty && _tags.TryRemove(tag))
                {
                    _policy.RemovePinned(EntryWeights.TagIndex(tag.Key));
                }
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _sweepTimer.Dispose();

    // What SizeInBytes should be, counted afresh from what the store holds: tests check the running accounts against it.
    internal long RecountBytes()
    {
        lock (_writeLock)
        {
            long bytes = _entries.Values.Sum(static entry => entry.Weight) + _namespaces.Values.Sum(static entry => entry.Weight);
            foreach (KeyValuePair<string, ConcurrentDictionary<string, long>> tag in _tags)
            {
                bytes += EntryWeights.TagIndex(tag.Key) + tag.Value.Keys.Sum(static key => EntryWeights.Filing(key));
            }

            return bytes;
        }
    }

    private long ExpiresAt(TimeSpan timeToLive) => Now + timeToLive.Ticks;

    private static CacheEntry NewEntry(string key, byte[] value, long expiresAt) => new(key, value, expiresAt, EntryWeights.Entry(key, value.Length));

    private bool TryGetLive(ConcurrentDictionary<string, CacheEntry> map, string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CacheEntry? entry)
    {
        if (map.TryGetValue(key, out entry))
        {
            if (entry.ExpiresAt > Now)
            {
                return true;
            }

            Remove(map, entry);
        }

        entry = null;
        return false;
    }

    // Puts entry under its key in place of current (what the key holds, or null), if the policy admits it; a key
    // already held is admitted without comparing frequencies. Refused, the key is left empty. Under the write lock.
    private bool StoreLocked(CacheEntry entry, CacheEntry? current)
    {
        if (current is not null)
        {
            _policy.Remove(current);
        }

        if (_policy.TryAdmit(entry, force: current is not null, _evict))
        {
            _entries[entry.Key] = entry;
            return true;
        }

        if (current is not null)
        {
            _entries.TryRemove(new KeyValuePair<string, CacheEntry>(entry.Key, current));
        }

        return false;
    }

    // Removes this exact entry from the entries and the accounting, if it is still there. Under the write lock.
    private void RemoveLocked(CacheEntry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, CacheEntry>(entry.Key, entry)))
        {
            _policy.Remove(entry);
        }
    }

    // Removes whatever key holds; returns it.
    private CacheEntry? RemoveKey(string key)
    {
        lock (_writeLock)
        {
            if (_entries.TryRemove(key, out CacheEntry? removed))
            {
                _policy.Remove(removed);
                return removed;
            }

            return null;
        }
    }

    // Removes this exact entry or namespace version (expired), if it is still there, with its accounting.
    private void Remove(ConcurrentDictionary<string, CacheEntry> map, CacheEntry entry)
    {
        lock (_writeLock)
        {
            if (map.TryRemove(new KeyValuePair<string, CacheEntry>(entry.Key, entry)))
            {
                if (ReferenceEquals(map, _namespaces))
                {
                    _policy.RemovePinned(entry.Weight);
                }
                else
                {
                    _policy.Remove(entry);
                }
            }
        }
    }

    // A namespace's version, pinned like tag filings (forgetting one would be safe, but they are few). Under the write lock.
    private void SetNamespaceLocked(string namespaceName, string version, TimeSpan lifetime)
    {
        var entry = new CacheEntry(namespaceName, version, ExpiresAt(lifetime), EntryWeights.NamespaceVersion(namespaceName, version));
        if (_namespaces.TryGetValue(namespaceName, out CacheEntry? existing))
        {
            _policy.RemovePinned(existing.Weight);
        }

        _policy.AddPinned(entry.Weight, _evict);
        _namespaces[namespaceName] = entry;
    }
}
