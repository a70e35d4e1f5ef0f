using System.Numerics;

namespace Caching.Stores.Eviction;

/// <summary>
/// How often each key was asked for, recently: a count-min sketch of 4-bit counters (16 per <see cref="long"/>,
/// four per key, the estimate being the smallest), halved every ten accesses per counter slot so that old
/// popularity fades (TinyLFU's aging).
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

    // Multipliers for the four rows (from Caffeine's FrequencySketch, which took them from the FNV/Murmur family).
    private static readonly ulong[] Seeds = [0xc3a5c85c97cb3127UL, 0xb492b66fbe98f273UL, 0x9ae16a3b2f90404fUL, 0xcbf29ce484222325UL];

    private long[] _table;
    private int _sampleSize;
    private int _additions;

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
        int mask = table.Length - 1;
        ulong spread = Spread(hash);
        int start = (int)(spread & 3) << 2;
        int frequency = MaxCounter;
        for (int row = 0; row < 4; row++)
        {
            int index = IndexOf(spread, row, mask);
            int count = (int)((ulong)table[index] >> ((start + row) << 2)) & 0xF;
            frequency = Math.Min(frequency, count);
        }

        return frequency;
    }

    /// <summary>Counts one access of a key with this hash; every so often, halves all counts.</summary>
    public void Increment(int hash)
    {
        long[] table = Volatile.Read(ref _table);
        int mask = table.Length - 1;
        ulong spread = Spread(hash);
        int start = (int)(spread & 3) << 2;
        bool added = false;
        for (int row = 0; row < 4; row++)
        {
            added |= IncrementAt(table, IndexOf(spread, row, mask), start + row);
        }

        if (added && ++_additions >= _sampleSize)
        {
            Halve(table);
        }
    }

    private static (long[] Table, int SampleSize) Allocate(int capacity)
    {
        int length = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(capacity, 16, 1 << 26));
        return (new long[length], 10 * length);
    }

    private static ulong Spread(int hash)
    {
        ulong x = (uint)hash;
        x = (x ^ (x >> 17)) * 0xed5ad4bbUL;
        x = (x ^ (x >> 11)) * 0xac4c1b51UL;
        return x ^ (x >> 15);
    }

    private static int IndexOf(ulong spread, int row, int mask)
    {
        ulong h = (spread + Seeds[row]) * Seeds[row];
        h += h >> 32;
        return (int)h & mask;
    }

    private static bool IncrementAt(long[] table, int index, int counter)
    {
        int offset = counter << 2;
        long mask = 0xFL << offset;
        long value = table[index];
        if ((value & mask) == mask)
        {
            return false;
        }

        table[index] = value + (1L << offset);
        return true;
    }

    // Aging: every counter halved, so that what was popular long ago does not crowd out what is popular now.
    private void Halve(long[] table)
    {
        for (int i = 0; i < table.Length; i++)
        {
            table[i] = (long)((ulong)table[i] >> 1) & ResetMask;
        }

        _additions /= 2;
    }
}
