using System.Globalization;
using System.Text;

namespace Caching.Stores;

/// <summary>
/// Redis Cluster's hash slots (CRC16/XMODEM of the key, or of its <c>{hash tag}</c>, modulo 16384), and for each
/// slot a short hash tag that maps to it: a key named <c>prefix{tag}</c> lives in that slot, so a script can touch it
/// together with any key of the slot.
/// </summary>
internal static class HashSlots
{
    /// <summary>The number of hash slots.</summary>
    public const int Count = 16384;

    private static readonly ushort[] Table = BuildTable();
    private static readonly Lazy<string[]> Tags = new(BuildTags);

    /// <summary>The hash slot of <paramref name="key"/>, as Redis Cluster computes it.</summary>
    public static int Of(string key)
    {
        int length = Encoding.UTF8.GetByteCount(key);
        Span<byte> bytes = length <= 512 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(key, bytes);
        return Of(bytes);
    }

    /// <summary>The hash slot of a key's bytes: only the part between the first <c>{</c> and the next <c>}</c>
    /// counts when it is not empty.</summary>
    public static int Of(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = key[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                key = key.Slice(open + 1, close);
            }
        }

        ushort crc = 0;
        foreach (byte b in key)
        {
            crc = (ushort)((crc << 8) ^ Table[((crc >> 8) ^ b) & 0xFF]);
        }

        return crc & (Count - 1);
    }

    /// <summary>A short text (decimal digits) whose hash slot is <paramref name="slot"/>.</summary>
    public static string TagFor(int slot) => Tags.Value[slot];

    // The CRC16/XMODEM table (polynomial 0x1021).
    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            ushort crc = (ushort)(i << 8);
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }

            table[i] = crc;
        }

        return table;
    }

    // The first decimal number that lands in each slot (about 170,000 numbers are tried, once per process).
    private static string[] BuildTags()
    {
        var tags = new string[Count];
        int found = 0;
        for (int i = 0; found < Count; i++)
        {
            string candidate = i.ToString(CultureInfo.InvariantCulture);
            int slot = Of(candidate);
            if (tags[slot] is null)
            {
                tags[slot] = candidate;
                found++;
            }
        }

        return tags;
    }
}
