namespace Caching.Stores.Eviction;

/// <summary>
/// Keeps what the in-process store holds within its byte limit: TinyLFU admission in front of sampled eviction.
/// A new key gets in only if it was asked for more often, recently, than the entry it would push out
/// (<see cref="FrequencySketch"/>); the entry pushed out is the least frequently read of a few sampled at random,
/// the least recently read among equals (as Redis' approximated LFU/LRU eviction samples, instead of keeping every
/// entry in an ordered list that each read would have to update under a lock).
/// </summary>
/// <remarks>
/// Not thread-safe except <see cref="RecordAccess"/> and <see cref="Touch"/>: the store calls everything else under
/// its write lock. Reads only count (a racy sketch increment and a plain write of a clock value): no lock on hits.
/// Pinned bytes (tag filings, namespace versions) count against the limit and make room by evicting entries, but
/// are never evicted themselves: forgetting a tag filing would let a tag invalidation miss a live entry.
/// Measured against LRU, BitFaster's ConcurrentLfu and Belady's optimum in docs/benchmarks.md.
/// </remarks>
internal sealed class EvictionPolicy
{
    /// <summary>
    /// Entries sampled per eviction (Redis' default too). Measured on the Zipf trace (docs/benchmarks.md): 4 to 32
    /// samples give the same hit ratio within a few hundredths of a point, while each sample of a large store costs
    /// cache misses on the eviction path; 5 keeps some margin for workloads less skewed than Zipf.
    /// </summary>
    public const int SampleSize = 5;

    private readonly FrequencySketch _sketch = new(256);

    // Seeded: the same operations evict the same entries (tests, benchmarks).
    private readonly Random _random = new(15);
    private CacheEntry[] _slots = new CacheEntry[256];
    private int _count;
    private long _entryBytes;
    private long _pinnedBytes;
    private long _clock;
    private long _evictions;
    private long _refusals;

    private readonly int _sampleSize;

    /// <summary>Creates the policy for a limit in bytes, sampling <paramref name="sampleSize"/> entries per eviction.</summary>
    public EvictionPolicy(long limit, int sampleSize = SampleSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleSize);
        Limit = limit;
        _sampleSize = sampleSize;
    }

    /// <summary>The most bytes held.</summary>
    public long Limit { get; }

    /// <summary>Bytes accounted for now: entries and pinned items.</summary>
    public long UsedBytes => _entryBytes + _pinnedBytes;

    /// <summary>Bytes of pinned items (tag filings, namespace versions).</summary>
    public long PinnedBytes => _pinnedBytes;

    /// <summary>Entries held.</summary>
    public int Count => _count;

    /// <summary>Entries evicted to make room, since the start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Entries refused (larger than the limit, or less popular than what they would push out), since the start.</summary>
    public long Refusals => Interlocked.Read(ref _refusals);

    /// <summary>Bytes the frequency sketch takes (not counted against the limit: part of the stated overhead).</summary>
    public long SketchBytes => _sketch.Bytes;

    /// <summary>Counts an access of <paramref name="key"/>, hit or miss: what admission compares. Lock-free.</summary>
    public void RecordAccess(string key) => _sketch.Increment(key.GetHashCode());

    /// <summary>Marks <paramref name="entry"/> as just read. Lock-free; a lost update only blurs recency among equals.</summary>
    public void Touch(CacheEntry entry) => entry.LastAccess = ++_clock;

    /// <summary>
    /// Makes room for <paramref name="candidate"/> and takes it in, or refuses it. A candidate heavier than the
    /// limit is refused; otherwise entries are evicted (through <paramref name="evict"/>) until it fits, each only
    /// if the candidate is more frequent, unless <paramref name="force"/> (a key the store already held: replacing
    /// a value or filling a lease, decided when the key first got in).
    /// </summary>
    /// <returns>Whether the candidate is now held.</returns>
    public bool TryAdmit(CacheEntry candidate, bool force, Action<CacheEntry> evict)
    {
        if (candidate.Weight > Limit)
        {
            _refusals++;
            return false;
        }

        int candidateFrequency = force ? int.MaxValue : _sketch.Frequency(candidate.KeyHash);
        while (UsedBytes + candidate.Weight > Limit)
        {
            CacheEntry? victim = SelectVictim();
            if (victim is null || _sketch.Frequency(victim.KeyHash) >= candidateFrequency)
            {
                // Nothing evictable left (pinned items fill the limit), or the candidate is no more popular than
                // what it would push out: refused, as an entry evicted at once would be.
                _refusals++;
                return false;
            }

            Remove(victim);
            _evictions++;
            evict(victim);
        }

        Add(candidate);
        return true;
    }

    /// <summary>Stops accounting for <paramref name="entry"/> (deleted, expired, replaced or evicted). Idempotent.</summary>
    public void Remove(CacheEntry entry)
    {
        int slot = entry.Slot;
        if (slot < 0)
        {
            return;
        }

        // Swap-remove: the last entry takes the freed slot, so sampling stays uniform over a dense array.
        CacheEntry last = _slots[--_count];
        _slots[slot] = last;
        last.Slot = slot;
        _slots[_count] = null!;
        entry.Slot = -1;
        _entryBytes -= entry.Weight;
    }

    /// <summary>Accounts for a pinned item, evicting entries to make room for it; it is taken even when they do not suffice.</summary>
    public void AddPinned(long weight, Action<CacheEntry> evict)
    {
        while (UsedBytes + weight > Limit && SelectVictim() is { } victim)
        {
            Remove(victim);
            _evictions++;
            evict(victim);
        }

        _pinnedBytes += weight;
    }

    /// <summary>Stops accounting for a pinned item.</summary>
    public void RemovePinned(long weight) => _pinnedBytes -= weight;

    /// <summary>Forgets everything (the store was cleared).</summary>
    public void Clear()
    {
        Array.Clear(_slots, 0, _count);
        _count = 0;
        _entryBytes = 0;
        _pinnedBytes = 0;
    }

    private void Add(CacheEntry entry)
    {
        if (_count == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        entry.Slot = _count;
        entry.LastAccess = ++_clock;
        _slots[_count++] = entry;
        _entryBytes += entry.Weight;

        // One sketch slot per entry held (Caffeine sizes it to the maximum; a byte limit has none in entries).
        _sketch.EnsureCapacity(_count);
    }

    // The least frequently read of _sampleSize entries drawn at random; the least recently read among equals.
    private CacheEntry? SelectVictim()
    {
        if (_count == 0)
        {
            return null;
        }

        CacheEntry? victim = null;
        int victimFrequency = int.MaxValue;
        for (int i = 0; i < _sampleSize; i++)
        {
            CacheEntry sampled = _slots[_random.Next(_count)];
            int frequency = _sketch.Frequency(sampled.KeyHash);
            if (frequency < victimFrequency || (frequency == victimFrequency && sampled.LastAccess < victim!.LastAccess))
            {
                victim = sampled;
                victimFrequency = frequency;
            }
        }

        return victim;
    }
}
