using System.Buffers;
using System.Text;

namespace Caching.Keys;

/// <summary>
/// Encodes values placed into cache keys so that two different values never produce the same key.
/// </summary>
/// <remarks>
/// <para>
/// ASCII letters, digits, <c>-</c> and <c>.</c> are kept as they are; every other character, including the
/// separators <c>:</c> and <c>_</c>, the glob characters <c>* ? [ ] \</c>, <c>%</c> and <c>~</c>, is written
/// as <c>%XX</c> for each of its UTF-8 bytes (upper-case hex). A <see langword="null"/> value is written as
/// a lone <c>~</c>, which no other value can produce. So an encoded value never contains a separator or a
/// glob character: it cannot merge with its neighbours and cannot widen a pattern.
/// </para>
/// <para>Numbers and identifiers such as <c>42</c>, <c>en-US</c> or <c>3.5</c> stay readable.</para>
/// </remarks>
public static class KeyEncoding
{
    /// <summary>What a <see langword="null"/> value encodes to.</summary>
    public const string Null = "~";

    private const string Hex = "0123456789ABCDEF";

    /// <summary>Returns whether <paramref name="c"/> is written as itself.</summary>
    /// <param name="c">A character.</param>
    /// <returns><see langword="true"/> for ASCII letters, digits, '-' and '.'.</returns>
    public static bool IsKept(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.';

    /// <summary>Encodes one value.</summary>
    /// <param name="value">The value, already formatted with the invariant culture; <see langword="null"/> is allowed.</param>
    /// <returns>The encoded text.</returns>
    public static string Encode(string? value)
    {
        if (value is null)
        {
            return Null;
        }

        int length = GetEncodedLength(value);
        if (length == value.Length)
        {
            return value;
        }

        return string.Create(length, value, static (span, source) => Write(source, span));
    }

    /// <summary>Returns the length of <paramref name="value"/> once encoded.</summary>
    /// <param name="value">The raw value.</param>
    /// <returns>The number of characters <see cref="Write"/> produces.</returns>
    public static int GetEncodedLength(ReadOnlySpan<char> value)
    {
        int length = 0;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (IsKept(c))
            {
                length++;
            }
            else if (c < 0x80)
            {
                length += 3;
            }
            else
            {
                int width = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]) ? 2 : 1;
                length += 3 * GetUtf8Length(value.Slice(i, width));
                i += width - 1;
            }
        }

        return length;
    }

    /// <summary>Writes the encoding of <paramref name="value"/> into <paramref name="destination"/>.</summary>
    /// <param name="value">The raw value.</param>
    /// <param name="destination">A span of at least <see cref="GetEncodedLength"/> characters.</param>
    /// <returns>The number of characters written.</returns>
    public static int Write(ReadOnlySpan<char> value, Span<char> destination)
    {
        int written = 0;
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (IsKept(c))
            {
                destination[written++] = c;
                continue;
            }

            int width = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]) ? 2 : 1;
            int bytes = width == 1 && char.IsSurrogate(c) ? WriteLoneSurrogate(c, utf8) : Encoding.UTF8.GetBytes(value.Slice(i, width), utf8);
            for (int b = 0; b < bytes; b++)
            {
                destination[written++] = '%';
                destination[written++] = Hex[utf8[b] >> 4];
                destination[written++] = Hex[utf8[b] & 0xF];
            }

            i += width - 1;
        }

        return written;
    }

    private static int GetUtf8Length(ReadOnlySpan<char> chars)
    {
        // A lone surrogate takes three bytes (its WTF-8 form), like U+FFFD, but different ones.
        return chars.Length == 1 && char.IsSurrogate(chars[0]) ? 3 : Encoding.UTF8.GetByteCount(chars);
    }

    // The WTF-8 bytes of a lone surrogate (ED A0..BF xx): never valid UTF-8, so never the encoding of real text,
    // and two different lone surrogates stay different.
    private static int WriteLoneSurrogate(char c, Span<byte> bytes)
    {
        bytes[0] = (byte)(0xE0 | (c >> 12));
        bytes[1] = (byte)(0x80 | ((c >> 6) & 0x3F));
        bytes[2] = (byte)(0x80 | (c & 0x3F));
        return 3;
    }

    /// <summary>Appends the encoding of <paramref name="value"/> to a pooled buffer, growing it when needed.</summary>
    internal static void Append(ReadOnlySpan<char> value, ref char[] buffer, ref int position)
    {
        int needed = GetEncodedLength(value);
        EnsureCapacity(ref buffer, position, needed);
        position += Write(value, buffer.AsSpan(position));
    }

    internal static void EnsureCapacity(ref char[] buffer, int position, int needed)
    {
        if (position + needed <= buffer.Length)
        {
            return;
        }

        char[] larger = ArrayPool<char>.Shared.Rent(Math.Max(buffer.Length * 2, position + needed));
        buffer.AsSpan(0, position).CopyTo(larger);
        ArrayPool<char>.Shared.Return(buffer);
        buffer = larger;
    }
}
