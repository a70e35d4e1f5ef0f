using System.Text;

namespace Caching;

/// <summary>
/// The few bytes that tie a namespaced entry to the namespace version it was loaded under:
/// <c>0xCA 0x01 length version-bytes payload</c>. Entries without a namespace are stored as plain payload.
/// </summary>
internal static class NamespaceEnvelope
{
    private const byte Magic = 0xCA;
    private const byte FormatVersion = 0x01;

    public static byte[] Wrap(string version, ReadOnlySpan<byte> payload)
    {
        int versionLength = Encoding.ASCII.GetByteCount(version);
        var result = new byte[3 + versionLength + payload.Length];
        result[0] = Magic;
        result[1] = FormatVersion;
        result[2] = checked((byte)versionLength);
        Encoding.ASCII.GetBytes(version, result.AsSpan(3));
        payload.CopyTo(result.AsSpan(3 + versionLength));
        return result;
    }

    /// <summary>
    /// Whether <paramref name="stored"/> starts like an envelope. 0xCA 0x01 is never the start of valid UTF-8, so
    /// no JSON or text payload is mistaken for one.
    /// </summary>
    public static bool IsEnvelope(byte[] stored) => stored.Length >= 3 && stored[0] == Magic && stored[1] == FormatVersion;

    /// <summary>
    /// The bytes of a lease: 0xCA 0x03, 8 random bytes drawn once per process and an 8-byte counter, so no two
    /// leases of any instance are alike. Never valid UTF-8, so never a value. Cheap: the hit path makes one per read.
    /// </summary>
    public static byte[] NewLease()
    {
        var lease = new byte[18];
        lease[0] = Magic;
        lease[1] = 0x03;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(lease.AsSpan(2), ProcessLeaseId);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(lease.AsSpan(10), Interlocked.Increment(ref _leaseCounter));
        return lease;
    }

    private static readonly ulong ProcessLeaseId = BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
    private static long _leaseCounter;

    /// <summary>Whether <paramref name="stored"/> is a lease this process took.</summary>
    public static bool IsThisProcessLease(ReadOnlySpan<byte> stored)
        => IsLease(stored) && System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(stored[2..]) == ProcessLeaseId;

    /// <summary>Whether <paramref name="stored"/> is a lease placeholder rather than a value.</summary>
    public static bool IsLease(ReadOnlySpan<byte> stored) => stored.Length == 18 && stored[0] == Magic && stored[1] == 0x03;

    /// <summary>Returns the payload when <paramref name="stored"/> was written under <paramref name="currentVersion"/>.</summary>
    public static bool TryUnwrap(byte[] stored, string currentVersion, out ReadOnlyMemory<byte> payload)
    {
        payload = default;
        if (stored.Length < 3 || stored[0] != Magic || stored[1] != FormatVersion)
        {
            return false;
        }

        int versionLength = stored[2];
        if (stored.Length < 3 + versionLength || versionLength != currentVersion.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> version = stored.AsSpan(3, versionLength);
        for (int i = 0; i < versionLength; i++)
        {
            if (version[i] != currentVersion[i])
            {
                return false;
            }
        }

        payload = stored.AsMemory(3 + versionLength);
        return true;
    }
}
