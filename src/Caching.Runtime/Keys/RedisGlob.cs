using System.Buffers;
using System.Text;

namespace Caching.Keys;

/// <summary>
/// Redis glob patterns (the <c>MATCH</c> of SCAN and KEYS): matching with exactly Redis's rules, and escaping
/// of literal text so that it can never act as a wildcard.
/// </summary>
/// <remarks>
/// Redis matches bytes, not characters: keys and patterns are compared as UTF-8. The syntax is
/// <c>*</c> (any run of bytes), <c>?</c> (one byte), <c>[abc]</c>, <c>[^a]</c>, <c>[a-c]</c> (classes;
/// reversed ranges such as <c>[c-a]</c> are accepted; an unterminated class runs to the end of the pattern)
/// and <c>\x</c> (a literal <c>x</c>, also inside classes).
/// </remarks>
public static class RedisGlob
{
    // Redis gives up (no match) past this recursion depth of '*' groups; so do we, to agree on every input.
    private const int MaxNesting = 1000;

    /// <summary>Returns whether <paramref name="key"/> matches the glob <paramref name="pattern"/>, as Redis decides it.</summary>
    /// <param name="pattern">The glob pattern.</param>
    /// <param name="key">The key to test.</param>
    /// <returns><see langword="true"/> when Redis's SCAN MATCH would return the key.</returns>
    public static bool IsMatch(string pattern, string key)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(key);
        byte[]? rented = null;
        int patternBytes = Encoding.UTF8.GetMaxByteCount(pattern.Length);
        int keyBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        int total = patternBytes + keyBytes;
        Span<byte> buffer = total <= 512 ? stackalloc byte[total] : (rented = ArrayPool<byte>.Shared.Rent(total));
        try
        {
            int p = Encoding.UTF8.GetBytes(pattern, buffer);
            int k = Encoding.UTF8.GetBytes(key, buffer[p..]);
            return IsMatch(buffer[..p], buffer.Slice(p, k));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Returns whether the UTF-8 <paramref name="key"/> matches the UTF-8 glob <paramref name="pattern"/>, as Redis decides it.</summary>
    /// <param name="pattern">The glob pattern, UTF-8.</param>
    /// <param name="key">The key, UTF-8.</param>
    /// <returns><see langword="true"/> when Redis's SCAN MATCH would return the key.</returns>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> key)
    {
        bool giveUp = false;
        return Match(pattern, key, ref giveUp, 0);
    }

    /// <summary>
    /// Escapes <paramref name="literal"/> so that every character in it matches only itself:
    /// <c>\ * ? [ ]</c> get a backslash.
    /// </summary>
    /// <param name="literal">Text to place inside a pattern.</param>
    /// <returns>The escaped text.</returns>
    public static string Escape(string literal)
    {
        ArgumentNullException.ThrowIfNull(literal);
        int special = 0;
        foreach (char c in literal)
        {
            if (IsSpecial(c))
            {
                special++;
            }
        }

        if (special == 0)
        {
            return literal;
        }

        return string.Create(literal.Length + special, literal, static (span, source) =>
        {
            int i = 0;
            foreach (char c in source)
            {
                if (IsSpecial(c))
                {
                    span[i++] = '\\';
                }

                span[i++] = c;
            }
        });
    }

    /// <summary>Returns whether <paramref name="c"/> has a meaning in a glob outside a class.</summary>
    /// <param name="c">A character.</param>
    /// <returns><see langword="true"/> for <c>\ * ? [ ]</c>.</returns>
    public static bool IsSpecial(char c) => c is '\\' or '*' or '?' or '[' or ']';

    /// <summary>
    /// Returns whether <paramref name="pattern"/> can match more than one key: it holds an unescaped
    /// <c>*</c>, <c>?</c> or <c>[</c>.
    /// </summary>
    /// <param name="pattern">A glob pattern.</param>
    /// <returns><see langword="true"/> when the pattern has a wildcard.</returns>
    public static bool HasWildcard(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        for (int i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '\\':
                    i++;
                    break;
                case '*' or '?' or '[':
                    return true;
            }
        }

        return false;
    }

    /// <summary>Returns whether the pattern has at least one character that is not <c>*</c>.</summary>
    /// <param name="pattern">A glob pattern.</param>
    /// <returns><see langword="false"/> for patterns such as <c>*</c> or <c>**</c> that match every key.</returns>
    public static bool HasLiteralOrClass(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        foreach (char c in pattern)
        {
            if (c != '*')
            {
                return true;
            }
        }

        return false;
    }

    // Reads pattern bytes past the end as 0, as the C implementation reads its terminating NUL.
    private static int At(ReadOnlySpan<byte> s, int i) => i < s.Length ? s[i] : 0;

    // Redis compares `char`, which is signed on the platforms it ships on: ranges over bytes >= 0x80 compare as negative.
    private static int Signed(int b) => (sbyte)(byte)b;

    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> key, ref bool giveUp, int nesting)
    {
        if (nesting > MaxNesting)
        {
            return false;
        }

        int p = 0;
        int k = 0;
        while (p < pattern.Length && k < key.Length)
        {
            switch (pattern[p])
            {
                case (byte)'*':
                    while (p + 1 < pattern.Length && pattern[p + 1] == '*')
                    {
                        p++;
                    }

                    if (p == pattern.Length - 1)
                    {
                        return true;
                    }

                    while (k < key.Length)
                    {
                        if (Match(pattern[(p + 1)..], key[k..], ref giveUp, nesting + 1))
                        {
                            return true;
                        }

                        if (giveUp)
                        {
                            return false;
                        }

                        k++;
                    }

                    // No suffix of the key matches the rest of the pattern: no earlier '*' can help either.
                    giveUp = true;
                    return false;

                case (byte)'?':
                    k++;
                    break;

                case (byte)'[':
                {
                    p++;
                    bool negate = At(pattern, p) == '^';
                    if (negate)
                    {
                        p++;
                    }

                    bool matched = false;
                    int c = key[k];
                    while (true)
                    {
                        int remaining = pattern.Length - p;
                        if (At(pattern, p) == '\\' && remaining >= 2)
                        {
                            p++;
                            if (pattern[p] == c)
                            {
                                matched = true;
                            }
                        }
                        else if (At(pattern, p) == ']')
                        {
                            break;
                        }
                        else if (remaining == 0)
                        {
                            // Unterminated class: it ends with the pattern.
                            p--;
                            break;
                        }
                        else if (remaining >= 3 && pattern[p + 1] == '-')
                        {
                            int start = Signed(pattern[p]);
                            int end = Signed(pattern[p + 2]);
                            if (start > end)
                            {
                                (start, end) = (end, start);
                            }

                            p += 2;
                            int signedC = Signed(c);
                            if (signedC >= start && signedC <= end)
                            {
                                matched = true;
                            }
                        }
                        else if (pattern[p] == c)
                        {
                            matched = true;
                        }

                        p++;
                    }

                    if (negate)
                    {
                        matched = !matched;
                    }

                    if (!matched)
                    {
                        return false;
                    }

                    k++;
                    break;
                }

                case (byte)'\\':
                    if (pattern.Length - p >= 2)
                    {
                        p++;
                    }

                    if (pattern[p] != key[k])
                    {
                        return false;
                    }

                    k++;
                    break;

                default:
                    if (pattern[p] != key[k])
                    {
                        return false;
                    }

                    k++;
                    break;
            }

            p++;
            if (k == key.Length)
            {
                while (p < pattern.Length && pattern[p] == '*')
                {
                    p++;
                }

                break;
            }
        }

        return p >= pattern.Length && k == key.Length;
    }
}
