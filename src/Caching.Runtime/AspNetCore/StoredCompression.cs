using System.Buffers;
using System.IO.Compression;
using Microsoft.Extensions.Primitives;

namespace Caching.AspNetCore;

/// <summary>The form a compressed entry's body is sent in.</summary>
internal enum SentCoding
{
    /// <summary>Decompressed.</summary>
    Identity,

    /// <summary>Brotli: the stored bytes as they are.</summary>
    Brotli,

    /// <summary>gzip: derived from the stored bytes once per process and entry, then kept.</summary>
    Gzip,
}

/// <summary>
/// Compression of stored response bodies: Brotli, applied once when a response is stored; the
/// <c>Accept-Encoding</c> negotiation (RFC 9110 §12.5.3) that decides whether a client gets the stored bytes as they
/// are, a gzip form of them (for clients that lack Brotli: Go's and Python's HTTP clients, older proxies) or the
/// decompressed body. Redis holds the Brotli bytes only; the gzip and identity forms are derived in the process the
/// first time a client needs them and kept (bounded) for the next hits, so no form is compressed per request.
/// </summary>
internal static class StoredCompression
{
    /// <summary>The content coding stored bodies are compressed with.</summary>
    public const string Coding = "br";

    /// <summary>The content coding offered to clients that do not accept <see cref="Coding"/>.</summary>
    public const string GzipCoding = "gzip";

    // Brotli quality 9. Measured on 30 KB JSON lists (docs/benchmarks.md, "Stored compression"): 4.53x smaller in
    // about 0.9 ms, once per store, as fast as quality 6 (4.44x) and 7 (4.52x); quality 10 gave 4.73x in 11 ms, 11
    // 4.89x in 33 ms; decoding takes about 40 us at any quality. The window is the smallest that holds the body (2^10
    // to 2^24 bytes): the decoder's buffer stays small.
    private const int Quality = 9;

    // Forms derived for clients that do not accept Brotli (decompressed, gzip), by the hash of the compressed bytes
    // and the form (so a hit from any store finds them), up to 32 MiB in all; when full it starts over.
    private const long DerivedBudget = 32L * 1024 * 1024;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(UInt128 Stored, SentCoding Form), byte[]> Derived = new();
    private static long _derivedBytes;

    /// <summary>
    /// Compresses <paramref name="body"/>; null when the result would not be at least a tenth smaller (the body is
    /// then stored as it is).
    /// </summary>
    public static byte[]? TryCompress(ReadOnlySpan<byte> body)
    {
        int bound = BrotliEncoder.GetMaxCompressedLength(body.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(bound);
        try
        {
            int window = Math.Clamp(64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)Math.Max(1, body.Length - 1)), 10, 24);
            if (!BrotliEncoder.TryCompress(body, rented, out int written, Quality, window) || written > body.Length - (body.Length / 10))
            {
                return null;
            }

            return rented.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The decompressed body of a stored one whose original length is <paramref name="length"/>: decompressed once,
    /// then kept (up to a bound) for the next hits of clients that do not accept Brotli. The bytes returned are
    /// shared: never written to.
    /// </summary>
    public static byte[] DecompressShared(ReadOnlySpan<byte> compressed, int length)
        => DeriveShared(compressed, length, SentCoding.Identity);

    /// <summary>
    /// The gzip form of a stored body whose original length is <paramref name="length"/>: made once (decompressed,
    /// then gzip at the optimal level, 30% smaller on JSON than the fastest level that the response compression
    /// middleware uses per request), then kept (up to a bound) for the next hits of clients that accept gzip but not
    /// Brotli. The bytes returned are shared: never written to.
    /// </summary>
    public static byte[] GzipShared(ReadOnlySpan<byte> compressed, int length)
        => DeriveShared(compressed, length, SentCoding.Gzip);

    private static byte[] DeriveShared(ReadOnlySpan<byte> compressed, int length, SentCoding form)
    {
        UInt128 id = System.IO.Hashing.XxHash128.HashToUInt128(compressed);
        if (Derived.TryGetValue((id, form), out byte[]? derived) && (form != SentCoding.Identity || derived.Length == length))
        {
            return derived;
        }

        derived = form == SentCoding.Gzip ? Gzip(DecompressShared(compressed, length)) : Decompress(compressed, length);
        if (Interlocked.Add(ref _derivedBytes, derived.Length) > DerivedBudget)
        {
            Derived.Clear();
            Interlocked.Exchange(ref _derivedBytes, derived.Length);
        }

        Derived[(id, form)] = derived;
        return derived;
    }

    private static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream(body.Length / 3);
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(body);
        }

        return output.ToArray();
    }

    /// <summary>Decompresses a stored body whose original length is <paramref name="length"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a Brotli stream of that length.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> compressed, int length)
    {
        var body = new byte[length];
        if (!BrotliDecoder.TryDecompress(compressed, body, out int written) || written != length)
        {
            throw new InvalidDataException("A stored response body is not the Brotli stream its envelope describes.");
        }

        return body;
    }

    /// <summary>
    /// The form a compressed entry is sent in to a client whose <c>Accept-Encoding</c> is
    /// <paramref name="acceptEncoding"/>: Brotli when the client accepts it at least as much as gzip, else gzip when it
    /// accepts that, else the decompressed body (also when there is no header: no coding is assumed).
    /// </summary>
    public static SentCoding Choose(StringValues acceptEncoding)
    {
        if (acceptEncoding.Count == 0)
        {
            return SentCoding.Identity;
        }

        double brotli = Weight(acceptEncoding, Coding);
        double gzip = Weight(acceptEncoding, GzipCoding);
        return brotli > 0 && brotli >= gzip ? SentCoding.Brotli : gzip > 0 ? SentCoding.Gzip : SentCoding.Identity;
    }

    // The weight Accept-Encoding gives a coding: that of its own item (the lowest, if named more than once), else
    // that of *, else 0.
    private static double Weight(StringValues acceptEncoding, string coding)
    {
        double? named = null;
        double star = 0;
        foreach (string? value in acceptEncoding)
        {
            foreach (string item in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] parts = item.Split(';', StringSplitOptions.TrimEntries);
                double weight = Weight(parts);
                if (parts[0].Equals(coding, StringComparison.OrdinalIgnoreCase))
                {
                    named = Math.Min(weight, named ?? weight);
                }
                else if (parts[0] == "*")
                {
                    star = weight;
                }
            }
        }

        return named ?? star;
    }

    // The q parameter of one Accept-Encoding item (1 when absent; 0 when malformed, to be safe).
    private static double Weight(string[] parts)
    {
        for (int i = 1; i < parts.Length; i++)
        {
            string[] parameter = parts[i].Split('=', 2, StringSplitOptions.TrimEntries);
            if (parameter.Length == 2 && parameter[0].Equals("q", StringComparison.OrdinalIgnoreCase))
            {
                return double.TryParse(parameter[1], System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out double q) ? q : 0;
            }
        }

        return 1;
    }
}
