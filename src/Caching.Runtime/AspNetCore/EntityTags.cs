using System.IO.Hashing;
using Microsoft.Extensions.Primitives;

namespace Caching.AspNetCore;

/// <summary>
/// Entity tags (RFC 9110 §8.8.3) of stored responses: the strong tag made from a body's bytes, and the
/// <c>If-None-Match</c> comparison (§13.1.2) that decides a <c>304 Not Modified</c>.
/// </summary>
internal static class EntityTags
{
    /// <summary>
    /// A strong entity tag for <paramref name="body"/>: its 128-bit XxHash, base64url, quoted (24 characters). Equal
    /// bytes give equal tags on every instance and across restarts; different bytes collide with a probability of
    /// about 2^-128.
    /// </summary>
    public static string FromBody(ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[16];
        XxHash128.Hash(body, hash);
        Span<char> text = stackalloc char[1 + 24];
        text[0] = '"';
        Convert.TryToBase64Chars(hash, text[1..], out _);

        // 16 bytes are 22 base64 characters and "==": the padding gives way to the closing quote.
        text = text[..24];
        text[23] = '"';
        for (int i = 1; i < 23; i++)
        {
            text[i] = text[i] switch { '+' => '-', '/' => '_', char c => c };
        }

        return new string(text);
    }

    /// <summary>
    /// Whether <c>If-None-Match</c> matches <paramref name="entityTag"/>: <c>*</c>, or any tag of the list equal to it
    /// under the weak comparison (<c>W/</c> ignored), as RFC 9110 requires for GET and HEAD. A malformed list
    /// matches nothing: the full response is sent.
    /// </summary>
    public static bool NoneMatch(StringValues ifNoneMatch, string entityTag)
    {
        ReadOnlySpan<char> opaque = Opaque(entityTag);
        if (opaque.IsEmpty)
        {
            return false;
        }

        foreach (string? value in ifNoneMatch)
        {
            if (value is not null && ListMatches(value, opaque))
            {
                return true;
            }
        }

        return false;
    }

    // One header line: "*", or entity-tags separated by commas (an opaque tag may itself hold commas).
    private static bool ListMatches(ReadOnlySpan<char> list, ReadOnlySpan<char> opaque)
    {
        int position = 0;
        while (true)
        {
            while (position < list.Length && (list[position] is ' ' or '\t' or ','))
            {
                position++;
            }

            if (position == list.Length)
            {
                return false;
            }

            if (list[position] == '*')
            {
                return true;
            }

            if (list[position..].StartsWith("W/", StringComparison.Ordinal))
            {
                position += 2;
            }

            if (position >= list.Length || list[position] != '"')
            {
                return false;
            }

            int close = list[(position + 1)..].IndexOf('"');
            if (close < 0)
            {
                return false;
            }

            ReadOnlySpan<char> candidate = list.Slice(position, close + 2);
            if (candidate.SequenceEqual(opaque))
            {
                return true;
            }

            position += close + 2;
        }
    }

    // The quoted part of a tag, without a weak indicator; empty when the tag is malformed.
    private static ReadOnlySpan<char> Opaque(string entityTag)
    {
        ReadOnlySpan<char> tag = entityTag.AsSpan().Trim();
        if (tag.StartsWith("W/", StringComparison.Ordinal))
        {
            tag = tag[2..];
        }

        return tag.Length >= 2 && tag[0] == '"' && tag[^1] == '"' && tag[1..^1].IndexOf('"') < 0 ? tag : default;
    }
}
