using System.Globalization;
using System.Text;
using Caching.Keys;

namespace Caching.Runtime.Tests.Keys;

/// <summary>
/// Random values of every key type (System.Random, fixed seed; set KEY_PROPERTY_SEED to try another): two
/// different values never share a key, and the text in a key parses back (as a request value) to the value.
/// </summary>
public sealed class KeyPropertyTests
{
    private const int Count = 3000;

    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("KEY_PROPERTY_SEED"), out int seed) ? seed : 20240102;

    [Fact]
    public void Integers() => Property<int>(r => r.Next(int.MinValue, int.MaxValue), [0, -1, int.MinValue, int.MaxValue], RequestText.TryParse);

    [Fact]
    public void Longs() => Property<long>(r => r.NextInt64(long.MinValue, long.MaxValue), [0, long.MinValue, long.MaxValue], RequestText.TryParse);

    [Fact]
    public void Unsigned_longs() => Property<ulong>(r => (ulong)r.NextInt64(long.MinValue, long.MaxValue), [0, ulong.MaxValue], RequestText.TryParse);

    [Fact]
    public void Shorts_and_bytes()
    {
        Property<short>(r => (short)r.Next(short.MinValue, short.MaxValue + 1), [short.MinValue, short.MaxValue], RequestText.TryParse);
        Property<ushort>(r => (ushort)r.Next(0, ushort.MaxValue + 1), [0, ushort.MaxValue], RequestText.TryParse);
        Property<byte>(r => (byte)r.Next(0, 256), [0, 255], RequestText.TryParse);
        Property<sbyte>(r => (sbyte)r.Next(-128, 128), [-128, 127], RequestText.TryParse);
        Property<uint>(r => (uint)r.NextInt64(0, uint.MaxValue + 1L), [0, uint.MaxValue], RequestText.TryParse);
    }

    [Fact]
    public void Doubles() => Property<double>(
        r => BitConverter.Int64BitsToDouble(r.NextInt64(long.MinValue, long.MaxValue)),
        [0.0, -0.0, 0.1, 1.0 / 3, double.Epsilon, double.MaxValue, double.MinValue, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e21, 1e-7],
        RequestText.TryParse,
        identical: (a, b) => double.IsNaN(a) ? double.IsNaN(b) : BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b));

    [Fact]
    public void Floats() => Property<float>(
        r => BitConverter.Int32BitsToSingle(r.Next(int.MinValue, int.MaxValue)),
        [0f, -0f, 0.1f, float.Epsilon, float.MaxValue, float.NaN, 16777217f],
        RequestText.TryParse,
        identical: (a, b) => float.IsNaN(a) ? float.IsNaN(b) : BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b));

    [Fact]
    public void Decimals() => Property<decimal>(
        r => new decimal(r.Next(int.MinValue, int.MaxValue), r.Next(int.MinValue, int.MaxValue), r.Next(0, 3) == 0 ? r.Next() : 0, r.Next(2) == 0, (byte)r.Next(0, 29)),
        [0m, 1m, 1.0m, 1.00m, decimal.MaxValue, decimal.MinValue, 0.0000000000000000000000000001m],
        RequestText.TryParse,
        identical: (a, b) => a == b && a.Scale == b.Scale);

    [Fact]
    public void Booleans_and_chars()
    {
        Property<bool>(r => r.Next(2) == 0, [true, false], RequestText.TryParse);
        Property<char>(r => (char)r.Next(0, 0x10000), ['a', ':', '_', '~', '%', '\0', '\ud800', '\uffff'], RequestText.TryParse, roundTrips: c => !char.IsSurrogate(c));
    }

    [Fact]
    public void Guids() => Property<Guid>(r => new Guid(RandomBytes(r, 16)), [Guid.Empty, Guid.AllBitsSet], RequestText.TryParse);

    [Fact]
    public void Enums() => Property<RequestKeyTests.Color>(r => (RequestKeyTests.Color)r.Next(int.MinValue, int.MaxValue), [RequestKeyTests.Color.Red, RequestKeyTests.Color.Blue, (RequestKeyTests.Color)5, (RequestKeyTests.Color)(-1)], RequestText.TryParseEnum);

    [Fact]
    public void Dates_and_times()
    {
        Property<DateTime>(
            r => new DateTime(r.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), r.Next(2) == 0 ? DateTimeKind.Utc : DateTimeKind.Unspecified),
            [DateTime.MinValue, DateTime.MaxValue, new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc)],
            RequestText.TryParse,
            same: (a, b) => a.Ticks == b.Ticks && a.Kind == b.Kind,
            identical: (a, b) => a.Ticks == b.Ticks && a.Kind == b.Kind);
        Property<DateTimeOffset>(
            r => new DateTimeOffset(r.NextInt64(DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay), TimeSpan.FromMinutes(r.Next(-14 * 60, 14 * 60 + 1))),
            [DateTimeOffset.MinValue, DateTimeOffset.MaxValue, new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.FromHours(2))],
            RequestText.TryParse,
            same: (a, b) => a.Ticks == b.Ticks && a.Offset == b.Offset,
            identical: (a, b) => a.Ticks == b.Ticks && a.Offset == b.Offset);
        Property<DateOnly>(r => DateOnly.FromDayNumber(r.Next(DateOnly.MinValue.DayNumber, DateOnly.MaxValue.DayNumber + 1)), [DateOnly.MinValue, DateOnly.MaxValue], RequestText.TryParse);
        Property<TimeOnly>(r => new TimeOnly(r.NextInt64(0, TimeSpan.TicksPerDay)), [TimeOnly.MinValue, TimeOnly.MaxValue, new TimeOnly(3, 4, 5), new TimeOnly(3, 4, 59)], RequestText.TryParse);
        Property<TimeSpan>(r => new TimeSpan(r.NextInt64(long.MinValue, long.MaxValue)), [TimeSpan.Zero, TimeSpan.MinValue, TimeSpan.MaxValue, TimeSpan.FromTicks(-1)], RequestText.TryParse);
    }

    [Fact]
    public void Strings()
    {
        const string alphabet = "aZ09-._:~%*?[]\\ /é\ud834\udd1e\ud800";
        Property<string>(
            r => new string(Enumerable.Range(0, r.Next(0, 8)).Select(_ => alphabet[r.Next(alphabet.Length)]).ToArray()),
            [string.Empty, "~", "%7E", "null"],
            (string? text, out string value) =>
            {
                value = text!;
                return text is not null;
            },
            roundTrips: s => !s.Any(char.IsSurrogate) || s.Contains("\ud834\udd1e", StringComparison.Ordinal) && !s.Replace("\ud834\udd1e", string.Empty, StringComparison.Ordinal).Any(char.IsSurrogate));
        Assert.NotEqual(CacheKey.EncodeValue<string?>(null), CacheKey.EncodeValue("~"));
    }

    // Distinct values (by `same`, default Equals) give distinct keys; the text in the key parses back to an identical value.
    private static void Property<T>(Func<Random, T> next, T[] edges, RequestKeyTests.Parser<T> parse, Func<T, T, bool>? same = null, Func<T, T, bool>? identical = null, Func<T, bool>? roundTrips = null)
        where T : notnull
    {
        same ??= (a, b) => EqualityComparer<T>.Default.Equals(a, b);
        identical ??= same;
        var random = new Random(Seed);
        var seen = new Dictionary<string, T>(StringComparer.Ordinal);
        string type = typeof(T).Name;
        foreach (T value in edges.Concat(Enumerable.Range(0, Count).Select(_ => next(random))))
        {
            string key = CacheKey.EncodeValue(value);
            if (seen.TryGetValue(key, out T? earlier) && !same(earlier, value))
            {
                Assert.Fail($"seed {Seed}: {type} values {Show(earlier)} and {Show(value)} share the key \"{key}\"");
            }

            seen[key] = value;
            Assert.DoesNotContain(key, c => c is ':' or '_' or '*' or '?' or '[' or ']' or '\\' or ' ');
            if (roundTrips is not null && !roundTrips(value))
            {
                continue;
            }

            string text = Decode(key);
            bool parsed = parse(text, out T back);
            Assert.True(parsed && identical(back, value), $"seed {Seed}: {type} {Show(value)} is written \"{text}\" (key \"{key}\"), which parses back to {(parsed ? Show(back) : "nothing")}");
        }
    }

    private static string Show<T>(T value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture) + " (bits " + BitConverter.DoubleToInt64Bits(d).ToString("X16", CultureInfo.InvariantCulture) + ")",
        decimal m => m.ToString(CultureInfo.InvariantCulture) + " (scale " + m.Scale + ")",
        DateTime t => t.Ticks + " ticks " + t.Kind,
        TimeOnly t => t.Ticks + " ticks",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => "\"" + value + "\"",
    };

    private static byte[] RandomBytes(Random random, int count)
    {
        byte[] bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    // The inverse of KeyEncoding for valid UTF-8: %XX bytes back to text.
    private static string Decode(string key)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < key.Length; i++)
        {
            if (key[i] == '%')
            {
                bytes.Add(byte.Parse(key.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                bytes.Add((byte)key[i]);
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
