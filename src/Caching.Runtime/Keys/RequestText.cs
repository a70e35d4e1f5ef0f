using System.Globalization;

namespace Caching.Keys;

/// <summary>
/// Parses the text of a route or query value exactly as ASP.NET Core's minimal-API parameter binder parses it
/// (same method, number styles, date styles and culture), so that a key formed from the raw request before
/// binding (the generated hit path) is the key formed from the bound argument (the filter).
/// </summary>
/// <remarks>
/// <para>
/// Used by generated code. Integers use <see cref="NumberStyles.Integer"/>, <see cref="float"/> and
/// <see cref="double"/> <see cref="NumberStyles.Float"/> | <see cref="NumberStyles.AllowThousands"/>,
/// <see cref="decimal"/> <see cref="NumberStyles.Number"/>, all with the invariant culture; <see cref="DateTime"/>
/// is parsed with <see cref="DateTimeStyles.AdjustToUniversal"/>, <see cref="DateTimeOffset"/> with
/// <see cref="DateTimeStyles.AssumeUniversal"/>, both and <see cref="DateOnly"/> and <see cref="TimeOnly"/> with
/// <see cref="DateTimeStyles.AllowWhiteSpaces"/>; enums with <see cref="Enum.TryParse{TEnum}(string, out TEnum)"/>
/// (names, case-sensitive, or numbers).
/// </para>
/// <para>Each method returns <see langword="false"/> exactly when the binder rejects the text (and answers 400).</para>
/// </remarks>
public static class RequestText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Parses a <see cref="bool"/> as the binder does (<c>true</c>/<c>false</c>, any case).</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out bool value) => bool.TryParse(text, out value);

    /// <summary>Parses a <see cref="char"/> as the binder does (exactly one character).</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out char value) => char.TryParse(text, out value);

    /// <summary>Parses an <see cref="sbyte"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out sbyte value) => sbyte.TryParse(text, NumberStyles.Integer, Invariant, out value);

    /// <summary>Parses a <see cref="byte"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out byte value) => byte.TryParse(text, NumberStyles.Integer, Invariant, out value);

    /// <summary>Parses a <see cref="short"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out short value) => short.TryParse(text, NumberStyles.Integer, Invariant, out value);

    /// <summary>Parses a <see cref="ushort"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out ushort value) => ushort.TryParse(text, NumberStyles.Integer, Invariant, out value);

    /// <summary>Parses an <see cref="int"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out int value) => int.TryParse(text, NumberStyles.Integer, Invariant, out value);

    /// <summary>Parses a <see cref="uint"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out uint value) => uint.TryParse(text, NumberStyles.Integer, Invariant, out value);

    /// <summary>Parses a <see cref="long"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out long value) => long.TryParse(text, NumberStyles.Integer, Invariant, out value);

    /// <summary>Parses a <see cref="ulong"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out ulong value) => ulong.TryParse(text, NumberStyles.Integer, Invariant, out value);

    /// <summary>Parses a <see cref="float"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out float value) => float.TryParse(text, NumberStyles.Float | NumberStyles.AllowThousands, Invariant, out value);

    /// <summary>Parses a <see cref="double"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out double value) => double.TryParse(text, NumberStyles.Float | NumberStyles.AllowThousands, Invariant, out value);

    /// <summary>Parses a <see cref="decimal"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out decimal value) => decimal.TryParse(text, NumberStyles.Number, Invariant, out value);

    /// <summary>Parses a <see cref="Guid"/> as the binder does (any of its formats, any case).</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out Guid value) => Guid.TryParse(text, Invariant, out value);

    /// <summary>Parses a <see cref="DateTime"/> as the binder does (adjusted to UTC when the text has an offset).</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out DateTime value)
        => DateTime.TryParse(text, Invariant, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowWhiteSpaces, out value);

    /// <summary>Parses a <see cref="DateTimeOffset"/> as the binder does (UTC when the text has no offset).</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out DateTimeOffset value)
        => DateTimeOffset.TryParse(text, Invariant, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out value);

    /// <summary>Parses a <see cref="DateOnly"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out DateOnly value) => DateOnly.TryParse(text, Invariant, DateTimeStyles.AllowWhiteSpaces, out value);

    /// <summary>Parses a <see cref="TimeOnly"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out TimeOnly value) => TimeOnly.TryParse(text, Invariant, DateTimeStyles.AllowWhiteSpaces, out value);

    /// <summary>Parses a <see cref="TimeSpan"/> as the binder does.</summary>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParse(string? text, out TimeSpan value) => TimeSpan.TryParse(text, Invariant, out value);

    /// <summary>Parses an enum as the binder does: a member name (case-sensitive, or several separated by commas) or a number.</summary>
    /// <typeparam name="TEnum">The enum type.</typeparam>
    /// <param name="text">The request text.</param>
    /// <param name="value">The parsed value.</param>
    /// <returns>Whether the text parses.</returns>
    public static bool TryParseEnum<TEnum>(string? text, out TEnum value)
        where TEnum : struct, Enum
        => Enum.TryParse(text, out value);
}
