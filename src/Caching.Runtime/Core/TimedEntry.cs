using System.Buffers.Binary;

namespace Caching;

/// <summary>
/// An entry kept past its expiration for a stale window (stale-if-error, stale-while-revalidate), and the lease a
/// reload takes on such an entry.
/// </summary>
/// <remarks>
/// <para>Timed entry: <c>0xCA 0x07</c>, the end of freshness and the end of the stale window (8 bytes each, Unix
/// milliseconds, big-endian), then the entry as it would be stored without a window (the value, or its namespace
/// envelope). The store's time to live is the end of the stale window, so the key, and every invalidation of it (key,
/// pattern, tag; a namespace's by its version inside), covers the stale copy too. Written only when a stale window is
/// set: entries without one are unchanged.</para>
/// <para>Stale lease: <c>0xCA 0x09</c>, the 18 bytes of a lease (<see cref="NamespaceEnvelope.NewLease"/>), the
/// lease's deadline (8 bytes, Unix milliseconds, big-endian), then the timed entry it replaced. A reload takes it by
/// compare-and-set on the timed entry, so one reload runs per key across instances while readers can still see the
/// stale copy; it stores by compare-and-set on the stale lease (an invalidation meanwhile deletes the key, and the
/// reload stores nothing), and a reload that stores nothing puts the timed entry back the same way. The key lives for
/// the rest of the stale window (at least <see cref="CachingOptions.LeaseDuration"/>), so a reload that crashes or
/// outlives its lease does not take the stale copy with it: past the deadline the lease is free, and the next reader
/// takes it over by compare-and-set. (<c>0xCA 0x08</c>, the same without a deadline, is still read.)</para>
/// <para><c>0xCA</c> never starts valid UTF-8: no JSON or text value is mistaken for either.</para>
/// </remarks>
internal static class TimedEntry
{
    private const byte Magic = 0xCA;
    private const byte TimedFormat = 0x07;
    private const byte UndatedStaleLeaseFormat = 0x08;
    private const byte StaleLeaseFormat = 0x09;
    private const int HeaderLength = 2 + 8 + 8;
    private const int LeaseLength = 18;
    private const int StaleLeaseHeader = 2 + LeaseLength + 8;

    /// <summary>Wraps <paramref name="inner"/> (a value or its namespace envelope) with its two deadlines.</summary>
    public static byte[] Wrap(DateTimeOffset freshUntil, DateTimeOffset staleUntil, ReadOnlySpan<byte> inner)
    {
        var result = new byte[HeaderLength + inner.Length];
        result[0] = Magic;
        result[1] = TimedFormat;
        BinaryPrimitives.WriteInt64BigEndian(result.AsSpan(2), freshUntil.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt64BigEndian(result.AsSpan(10), staleUntil.ToUnixTimeMilliseconds());
        inner.CopyTo(result.AsSpan(HeaderLength));
        return result;
    }

    /// <summary>Whether <paramref name="stored"/> is a timed entry.</summary>
    public static bool IsTimed(ReadOnlySpan<byte> stored) => stored.Length >= HeaderLength && stored[0] == Magic && stored[1] == TimedFormat;

    /// <summary>Reads a timed entry: its deadlines and what it wraps; false when it is not one.</summary>
    public static bool TryRead(byte[] stored, out DateTimeOffset freshUntil, out DateTimeOffset staleUntil, out byte[] inner)
    {
        if (!IsTimed(stored))
        {
            freshUntil = staleUntil = default;
            inner = stored;
            return false;
        }

        freshUntil = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(stored.AsSpan(2)));
        staleUntil = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(stored.AsSpan(10)));
        inner = stored.AsSpan(HeaderLength).ToArray();
        return true;
    }

    /// <summary>The end of freshness of a timed entry; null for anything else.</summary>
    public static DateTimeOffset? FreshUntil(ReadOnlySpan<byte> stored)
        => IsTimed(stored) ? DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(stored[2..])) : null;

    /// <summary>
    /// A stale lease: <paramref name="lease"/>, held until <paramref name="deadline"/>, in front of the timed entry it
    /// replaces.
    /// </summary>
    public static byte[] StaleLease(ReadOnlySpan<byte> lease, DateTimeOffset deadline, ReadOnlySpan<byte> timed)
    {
        var result = new byte[StaleLeaseHeader + timed.Length];
        result[0] = Magic;
        result[1] = StaleLeaseFormat;
        lease.CopyTo(result.AsSpan(2));
        BinaryPrimitives.WriteInt64BigEndian(result.AsSpan(2 + LeaseLength), deadline.ToUnixTimeMilliseconds());
        timed.CopyTo(result.AsSpan(StaleLeaseHeader));
        return result;
    }

    /// <summary>Whether <paramref name="stored"/> is a stale lease.</summary>
    public static bool IsStaleLease(ReadOnlySpan<byte> stored)
        => stored.Length >= 2 && stored[0] == Magic && HeaderOf(stored[1]) is > 0 and int header && stored.Length >= header + HeaderLength;

    /// <summary>The lease inside a stale lease.</summary>
    public static ReadOnlySpan<byte> LeaseOf(ReadOnlySpan<byte> staleLease) => staleLease.Slice(2, LeaseLength);

    /// <summary>Until when a stale lease is held (one without a deadline, for as long as the key lives).</summary>
    public static DateTimeOffset DeadlineOf(ReadOnlySpan<byte> staleLease)
        => staleLease[1] == StaleLeaseFormat
            ? DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(staleLease[(2 + LeaseLength)..]))
            : DateTimeOffset.MaxValue;

    /// <summary>The timed entry a stale lease replaced.</summary>
    public static byte[] StaleOf(ReadOnlySpan<byte> staleLease) => staleLease[HeaderOf(staleLease[1])..].ToArray();

    // Where the timed entry starts in a stale lease of the given format; 0 for another format.
    private static int HeaderOf(byte format) => format switch
    {
        StaleLeaseFormat => StaleLeaseHeader,
        UndatedStaleLeaseFormat => 2 + LeaseLength,
        _ => 0,
    };
}
