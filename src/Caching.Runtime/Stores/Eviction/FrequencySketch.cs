using System.Numerics;

namespace Caching.Stores.Eviction;

/// <summary>
/// How often each key was asked for, recently: a count-min sketch of 4-bit counters (16 per <see cref="long"/>,
/// four per key, the estimate being the smallest), halved every ten accesses per counter slot so that old
/// popularity fades (TinyLFU's aging). A key's four counters lie in one 64-byte block (as in Caffeine's current
/// sketch): one cache miss per estimate instead of four, which is what eviction's sampling of a large store pays.
/// </summary>
/// <remarks>
/// Updates are not atomic: two threads incrementing together may lose one count. An estimate is only ever used to
/// rank candidates for eviction, never for correctness, so a lost count costs nothing but a slightly worse choice;
/// in exchange a read costs four plain memory writes and no lock.
/// </remarks>
internal sealed class FrequencySketch
{
    private const long ResetMask = 0x7777777777777777L;
    private const int MaxCounter = 15;

    private long[] _table;
    private int _sampleSize;
    private int _additions;

    // 1 while one thread halves the table: readers count concurrently, and only one of them ages it at a time.
    private int _halving;

    /// <summary>Creates a sketch sized for <paramref name="capacity"/> keys.</summary>
    public FrequencySketch(int capacity)
    {
        (_table, _sampleSize) = Allocate(capacity);
    }

    /// <summary>Keys the sketch is sized for (its table's length: one <see cref="long"/> of counters per key).</summary>
    public int Capacity => _table.Length;

    /// <summary>Bytes the sketch's table takes.</summary>
    public long Bytes => (long)_table.Length * sizeof(long);

    /// <summary>Grows the table for <paramref name="capacity"/> keys (counts start again from zero); never shrinks it.</summary>
    public void EnsureCapacity(int capacity)
    {
        if (capacity > _table.Length)
        {
            (long[] table, int sampleSize) = Allocate(capacity);
            _sampleSize = sampleSize;
            _additions = 0;
            Volatile.Write(ref _table, table);
        }
    }

    /// <summary>The estimated number of recent accesses of a key with this hash, 0 to 15.</summary>
    public int Frequency(int hash)
    {
        long[] table = Volatile.Read(ref _table);
        (int block, uint counterHash) = Locate(table, hash);
        int frequency = MaxCounter;
        for (int row = 0; row < 4; row++)
        {
            (int index, int shift) = Counter(block, counterHash, row);
            frequency = Math.Min(frequency, (int)((ulong)table[index] >> shift) & 0xF);
        }

        return frequency;
    }

    /// <summary>Counts one access of a key with this hash; every so often, halves all counts.</summary>
    public void Increment(int hash)
    {
        long[] table = Volatile.Read(ref _table);
        (int block, uint counterHash) = Locate(table, hash);
        bool added = false;
        for (int row = 0; row < 4; row++)
        {
            (int index, int shift) = Counter(block, counterHash, row);
            added |= IncrementAt(table, index, shift);
        }

        if (added && Interlocked.Increment(ref _additions) >= _sampleSize && Interlocked.CompareExchange(ref _halving, 1, 0) == 0)
        {
            try
            {
                // Another thread may have halved between the count and the gate.
                if (Volatile.Read(ref _additions) >= _sampleSize)
                {
                    Halve(table);
                }
            }
            finally
            {
                Volatile.Write(ref _halving, 0);
            }
        }
    }

    private static (long[] Table, int SampleSize) Allocate(int capacity)
    {
        int length = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(capacity, 16, 1 << 26));
        return (new long[length], 10 * length);
    }

    // The key's block (eight longs, 64 bytes) and a second hash that picks its four counters within the block.
    private static (int Block, uint CounterHash) Locate(long[] table, int hash)
    {
        uint blockHash = Spread((uint)hash);
        uint counterHash = Spread(blockHash);
        int blocks = table.Length >> 3;
        return ((int)(blockHash & (uint)(blocks - 1)) << 3, counterHash);
    }

    // Row r's counter: one of the 16 in one of the two longs the row owns in the block (a byte of the hash each).
    private static (int Index, int Shift) Counter(int block, uint counterHash, int row)
    {
        uint h = counterHash >> (row << 3);
        int index = block + (row << 1) + (int)(h & 1);
        return (index, (int)((h >> 1) & 15) << 2);
    }

    private static uint Spread(uint x)
    {
        x ^= x >> 17;
        x *= 0xed5ad4bbU;
        x ^= x >> 11;
        x *= 0xac4c1b51U;
        x ^= x >> 15;
        return x;
    }

    private static bool IncrementAt(long[] table, int index, int shift)
    {
        long mask = 0xFL << shift;
        long value = table[index];
        if ((value & mask) == mask)
        {
            return false;
        }

        table[index] = value + (1L << shift);
        return true;
    }

    // Aging: every counter halved, so that what was popular long ago does not crowd out what is popular now.
    private void Halve(long[] table)
    {
        for (int i = 0; i < table.Length; i++)
        {
            table[i] = (long)((ulong)table[i] >> 1) & ResetMask;
        }

        Interlocked.Exchange(ref _additions, Volatile.Read(ref _additions) / 2);
    }
}
