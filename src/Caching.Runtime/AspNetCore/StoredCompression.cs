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

    // Brotli quality 5 and a 4 MiB window: measured on JSON lists of 1 KiB to 1 MiB, within a few percent of
    // quality 11's size at a small fraction of its time (docs/benchmarks.md, "Stored compression").
    private const int Quality = 5;
    private const int Window = 22;

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
            if (!BrotliEncoder.TryCompress(body, rented, out int written, Quality, Window) || written > body.Length - (body.Length / 10))
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
