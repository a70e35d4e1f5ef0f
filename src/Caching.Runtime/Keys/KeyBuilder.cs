using System.Buffers;
using System.Globalization;

namespace Caching.Keys;

/// <summary>
/// Builds a cache key or a glob pattern from literal template text and encoded values, with one pooled
/// buffer and one final string. Used by generated code and by <see cref="CacheKey"/> and <see cref="CachePattern"/>.
/// </summary>
/// <remarks>
/// Values are formatted with the invariant culture in a format that round-trips (no two values share a text):
/// integers and <see cref="decimal"/> as they are, <see cref="double"/> and <see cref="float"/> <c>"R"</c>,
/// <see cref="bool"/> <c>true</c>/<c>false</c>, <see cref="Guid"/> <c>"D"</c>, enums as their underlying number,
/// <see cref="DateTime"/> and <see cref="DateTimeOffset"/> <c>"O"</c>, <see cref="DateOnly"/> <c>yyyy-MM-dd</c>,
/// <see cref="TimeOnly"/> <c>HH:mm:ss.fffffff</c>, <see cref="TimeSpan"/> <c>"c"</c>; then they are encoded with <see cref="KeyEncoding"/>. In a pattern, the encoded value
/// is also glob-escaped, so a value can only ever match itself.
/// </remarks>
public ref struct KeyBuilder
{
    private char[] _buffer;
    private int _position;

    /// <summary>Creates a builder with room for about <paramref name="capacity"/> characters.</summary>
    /// <param name="capacity">The expected length of the key.</param>
    public KeyBuilder(int capacity)
    {
        _buffer = ArrayPool<char>.Shared.Rent(Math.Max(capacity, 16));
        _position = 0;
    }

    /// <summary>The number of characters written so far.</summary>
    public readonly int Length => _position;

    /// <summary>Appends template text as it is (in a pattern, glob characters in it stay wildcards).</summary>
    /// <param name="literal">Text from the template.</param>
    public void AppendLiteral(string? literal)
    {
        if (string.IsNullOrEmpty(literal))
        {
            return;
        }

        KeyEncoding.EnsureCapacity(ref _buffer, _position, literal.Length);
        literal.AsSpan().CopyTo(_buffer.AsSpan(_position));
        _position += literal.Length;
    }

    /// <summary>Appends a value, formatted with the invariant culture and encoded.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value; <see langword="null"/> is written as <see cref="KeyEncoding.Null"/>.</param>
    public void AppendValue<T>(T value)
    {
        if (value is null)
        {
            AppendLiteral(KeyEncoding.Null);
            return;
        }

        if (value is string s)
        {
            KeyEncoding.Append(s, ref _buffer, ref _position);
            return;
        }

        Span<char> scratch = stackalloc char[64];
        if (TryFormat(value, scratch, out int written))
        {
            KeyEncoding.Append(scratch[..written], ref _buffer, ref _position);
            return;
        }

        KeyEncoding.Append(FormatToString(value), ref _buffer, ref _position);
    }

    /// <summary>Appends a value to a glob pattern: formatted, encoded, then glob-escaped, so it matches only itself.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    public void AppendPatternValue<T>(T value)
    {
        int start = _position;
        AppendValue(value);

        // The encoding never emits a glob character; this pass guarantees it stays that way.
        int special = 0;
        for (int i = start; i < _position; i++)
        {
            if (RedisGlob.IsSpecial(_buffer[i]))
            {
                special++;
            }
        }

        if (special == 0)
        {
            return;
        }

        KeyEncoding.EnsureCapacity(ref _buffer, _position, special);
        int read = _position - 1;
        int write = _position + special - 1;
        _position += special;
        while (read >= start)
        {
            char c = _buffer[read--];
            _buffer[write--] = c;
            if (RedisGlob.IsSpecial(c))
            {
                _buffer[write--] = '\\';
            }
        }
    }

    /// <summary>Returns the built text and returns the buffer to the pool. The builder must not be used afterwards.</summary>
    /// <returns>The key or pattern.</returns>
    public string ToStringAndClear()
    {
        string result = new(_buffer, 0, _position);
        char[] buffer = _buffer;
        _buffer = [];
        _position = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<char>.Shared.Return(buffer);
        }

        return result;
    }

    /// <inheritdoc />
    public override readonly string ToString() => new(_buffer, 0, _position);

    // Written as type tests plus casts (not pattern variables) so that the JIT specialises them per value
    // type without boxing; a nullable value or one typed as object takes the same branches boxed.
    private static bool TryFormat<T>(T value, Span<char> destination, out int written)
    {
        if (value is bool)
        {
            string text = (bool)(object)value! ? "true" : "false";
            written = text.Length;
            return text.AsSpan().TryCopyTo(destination);
        }

        if (value is ISpanFormattable)
        {
            return ((ISpanFormattable)value).TryFormat(destination, out written, FormatOf(value), CultureInfo.InvariantCulture);
        }

        written = 0;
        return false;
    }

    private static string FormatToString<T>(T value) => value switch
    {
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(FormatOf(value), CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? string.Empty,
    };

    /// <summary>
    /// The format each type is written with: one that round-trips (two different values never share a text)
    /// and reads the same in every culture. The README's table of key formats is checked against it.
    /// </summary>
    private static string? FormatOf<T>(T value)
    {
        if (value is DateTime || value is DateTimeOffset)
        {
            return "O";
        }

        if (value is DateOnly)
        {
            return "yyyy-MM-dd";
        }

        if (value is TimeOnly)
        {
            return "HH:mm:ss.fffffff";
        }

        if (value is TimeSpan)
        {
            return "c";
        }

        if (value is double || value is float)
        {
            return "R";
        }

        if (value is Guid)
        {
            return "D";
        }

        if (value is Enum)
        {
            return "D"; // the underlying number: what both "Red" and "1" bind to
        }

        return null;
    }
}
