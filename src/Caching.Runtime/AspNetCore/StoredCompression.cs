using System.Buffers;
using System.IO.Compression;
using Microsoft.Extensions.Primitives;

namespace Caching.AspNetCore;

/// <summary>
/// Compression of stored response bodies: Brotli, applied once when a response is stored, and the
/// <c>Accept-Encoding</c> check (RFC 9110 §12.5.3) that decides whether a client gets the stored bytes as they are.
/// </summary>
internal static class StoredCompression
{
    /// <summary>The content coding stored bodies are compressed with.</summary>
    public const string Coding = "br";

    // Brotli quality 9. Measured on 30 KB JSON lists (docs/benchmarks.md, "Stored compression"): 4.53x smaller in
    // about 0.9 ms, once per store, as fast as quality 6 (4.44x) and 7 (4.52x); quality 10 gave 4.73x in 11 ms, 11
    // 4.89x in 33 ms; decoding takes about 40 us at any quality. The window is the smallest that holds the body (2^10
    // to 2^24 bytes): the decoder's buffer stays small.
    private const int Quality = 9;

    // Bodies decompressed for clients that do not accept Brotli, by the hash of the compressed bytes (so a hit from
    // any store finds them), up to 32 MiB; when full it starts over.
    private const long DecompressedBudget = 32L * 1024 * 1024;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<UInt128, byte[]> Decompressed = new();
    private static long _decompressedBytes;

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
    {
        UInt128 id = System.IO.Hashing.XxHash128.HashToUInt128(compressed);
        if (Decompressed.TryGetValue(id, out byte[]? body) && body.Length == length)
        {
            return body;
        }

        body = Decompress(compressed, length);
        if (Interlocked.Add(ref _decompressedBytes, length) > DecompressedBudget)
        {
            Decompressed.Clear();
            Interlocked.Exchange(ref _decompressedBytes, length);
        }

        Decompressed[id] = body;
        return body;
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
    /// Whether <c>Accept-Encoding</c> admits <paramref name="coding"/>: named, or <c>*</c>, with a weight above 0. No
    /// header admits no coding (the client gets the identity body).
    /// </summary>
    public static bool Accepts(StringValues acceptEncoding, string coding)
    {
        bool? named = null;
        bool star = false;
        foreach (string? value in acceptEncoding)
        {
            foreach (string item in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] parts = item.Split(';', StringSplitOptions.TrimEntries);
                bool allowed = Weight(parts) > 0;
                if (parts[0].Equals(coding, StringComparison.OrdinalIgnoreCase))
                {
                    named = allowed && (named ?? true);
                }
                else if (parts[0] == "*")
                {
                    star = allowed;
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
