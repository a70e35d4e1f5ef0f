using System.Runtime.CompilerServices;

namespace Caching.Keys;

/// <summary>
/// Builds cache keys the way <see cref="CacheAttribute"/> does, for code that is not a handler (warmers, jobs,
/// admin endpoints), so that both address the same entries.
/// </summary>
/// <example>
/// <code>
/// string key = CacheKey.Format($"user_{userId}_posts:{page}");   // user_42_posts:2
/// string post = CacheKey.Create("post", 5);                        // post:5
/// </code>
/// </example>
public static class CacheKey
{
    /// <summary>Returns <c>"{prefix}:{encoded resource id}"</c>, the key an attribute with this prefix uses.</summary>
    /// <typeparam name="T">The resource id's type.</typeparam>
    /// <param name="prefix">The already formatted key prefix; must not be empty.</param>
    /// <param name="resourceId">The resource id; formatted with the invariant culture and encoded.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is null or empty.</exception>
    public static string Create<T>(string prefix, T resourceId)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            throw new ArgumentException("A cache key prefix must not be empty: pass the prefix the [Cache] attribute uses, such as \"post\".", nameof(prefix));
        }

        var builder = new KeyBuilder(prefix.Length + 24);
        builder.AppendLiteral(prefix);
        builder.AppendLiteral(":");
        builder.AppendValue(resourceId);
        return builder.ToStringAndClear();
    }

    /// <summary>
    /// Builds a key from an interpolated string: the literal parts are kept, every interpolated value is
    /// formatted with the invariant culture and encoded, exactly as in an attribute template.
    /// </summary>
    /// <param name="handler">The interpolated string, such as <c>$"user_posts:{userId}"</c>.</param>
    /// <returns>The key.</returns>
    public static string Format(ref CacheKeyInterpolatedStringHandler handler) => handler.ToStringAndClear();

    /// <summary>Encodes a single value as it appears inside a key.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The encoded value.</returns>
    public static string EncodeValue<T>(T value)
    {
        var builder = new KeyBuilder(24);
        builder.AppendValue(value);
        return builder.ToStringAndClear();
    }
}

/// <summary>
/// Builds glob patterns the way <see cref="CacheAttribute.PatternToInvalidateExtra"/> does: the literal parts
/// are glob syntax, every interpolated value is encoded and escaped so that it matches only itself.
/// </summary>
/// <example><code>string pattern = CachePattern.Format($"user_{userId}_posts:*");</code></example>
public static class CachePattern
{
    /// <summary>Builds a pattern from an interpolated string.</summary>
    /// <param name="handler">The interpolated string, such as <c>$"user_{userId}_*"</c>.</param>
    /// <returns>The pattern.</returns>
    public static string Format(ref CachePatternInterpolatedStringHandler handler) => handler.ToStringAndClear();
}

/// <summary>Interpolated string handler behind <see cref="CacheKey.Format"/>.</summary>
[InterpolatedStringHandler]
public ref struct CacheKeyInterpolatedStringHandler
{
    private KeyBuilder _builder;

    /// <summary>Called by the compiler.</summary>
    /// <param name="literalLength">Total length of the literal parts.</param>
    /// <param name="formattedCount">Number of interpolated values.</param>
    public CacheKeyInterpolatedStringHandler(int literalLength, int formattedCount)
    {
        _builder = new KeyBuilder(literalLength + (formattedCount * 12));
    }

    /// <summary>Called by the compiler for literal text.</summary>
    /// <param name="value">The literal text.</param>
    public void AppendLiteral(string value) => _builder.AppendLiteral(value);

    /// <summary>Called by the compiler for an interpolated value.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    public void AppendFormatted<T>(T value) => _builder.AppendValue(value);

    /// <summary>Returns the key.</summary>
    /// <returns>The key.</returns>
    public string ToStringAndClear() => _builder.ToStringAndClear();
}

/// <summary>Interpolated string handler behind <see cref="CachePattern.Format"/>.</summary>
[InterpolatedStringHandler]
public ref struct CachePatternInterpolatedStringHandler
{
    private KeyBuilder _builder;

    /// <summary>Called by the compiler.</summary>
    /// <param name="literalLength">Total length of the literal parts.</param>
    /// <param name="formattedCount">Number of interpolated values.</param>
    public CachePatternInterpolatedStringHandler(int literalLength, int formattedCount)
    {
        _builder = new KeyBuilder(literalLength + (formattedCount * 12));
    }

    /// <summary>Called by the compiler for literal text (glob syntax).</summary>
    /// <param name="value">The literal text.</param>
    public void AppendLiteral(string value) => _builder.AppendLiteral(value);

    /// <summary>Called by the compiler for an interpolated value (always literal in the pattern).</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    public void AppendFormatted<T>(T value) => _builder.AppendPatternValue(value);

    /// <summary>Returns the pattern.</summary>
    /// <returns>The pattern.</returns>
    public string ToStringAndClear() => _builder.ToStringAndClear();
}
