using System.Buffers;
using System.Globalization;

namespace Caching.Keys;

/// <summary>
/// Builds a cache key or a glob pattern from literal template text and encoded values, with one pooled
/// buffer and one final string. Used by generated code and by <see cref="CacheKey"/> and <see cref="CachePattern"/>.
/// </summary>
/// <remarks>
/// Values are formatted with the invariant culture (dates and times round-trip with the <c>"O"</c> format so
/// that no precision is lost) and then encoded with <see cref="KeyEncoding"/>. In a pattern, the encoded value
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
    // type without boxing.
    private static bool TryFormat<T>(T value, Span<char> destination, out int written)
    {
        if (typeof(T) == typeof(DateTime))
        {
            return ((DateTime)(object)value!).TryFormat(destination, out written, "O", CultureInfo.InvariantCulture);
        }

        if (typeof(T) == typeof(DateTimeOffset))
        {
            return ((DateTimeOffset)(object)value!).TryFormat(destination, out written, "O", CultureInfo.InvariantCulture);
        }

        if (value is DateTime or DateTimeOffset)
        {
            // A date typed as object or as an interface: format it as above.
            string text = FormatToString(value);
            written = text.Length;
            return text.AsSpan().TryCopyTo(destination);
        }

        if (value is ISpanFormattable)
        {
            return ((ISpanFormattable)value).TryFormat(destination, out written, default, CultureInfo.InvariantCulture);
        }

        written = 0;
        return false;
    }

    private static string FormatToString<T>(T value) => value switch
    {
        DateTime dateTime => dateTime.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset dateTimeOffset => dateTimeOffset.ToString("O", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? string.Empty,
    };
}
