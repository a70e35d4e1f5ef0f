using System.Globalization;
using Caching.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.Runtime.Tests.Keys;

/// <summary>
/// The key the generated hit path forms from the raw request text (parsed with <see cref="RequestText"/>) must be
/// the key the filter forms from the argument ASP.NET Core's real binder produced for the same request.
/// </summary>
public sealed class RequestKeyTests
{
    public delegate bool Parser<T>(string? text, out T value);

    public enum Color
    {
        Red = 1,
        Green = 2,
        Blue = 4,
    }

    private static readonly IServiceProvider Services = new ServiceCollection().AddLogging().BuildServiceProvider();

    private static readonly Dictionary<string, Action<string>> Checks = new(StringComparer.Ordinal)
    {
        ["bool"] = text => SameKey<bool>(text, RequestText.TryParse),
        ["char"] = text => SameKey<char>(text, RequestText.TryParse),
        ["sbyte"] = text => SameKey<sbyte>(text, RequestText.TryParse),
        ["byte"] = text => SameKey<byte>(text, RequestText.TryParse),
        ["short"] = text => SameKey<short>(text, RequestText.TryParse),
        ["ushort"] = text => SameKey<ushort>(text, RequestText.TryParse),
        ["int"] = text => SameKey<int>(text, RequestText.TryParse),
        ["uint"] = text => SameKey<uint>(text, RequestText.TryParse),
        ["long"] = text => SameKey<long>(text, RequestText.TryParse),
        ["ulong"] = text => SameKey<ulong>(text, RequestText.TryParse),
        ["float"] = text => SameKey<float>(text, RequestText.TryParse),
        ["double"] = text => SameKey<double>(text, RequestText.TryParse),
        ["decimal"] = text => SameKey<decimal>(text, RequestText.TryParse),
        ["Guid"] = text => SameKey<Guid>(text, RequestText.TryParse),
        ["DateTime"] = text => SameKey<DateTime>(text, RequestText.TryParse),
        ["DateTimeOffset"] = text => SameKey<DateTimeOffset>(text, RequestText.TryParse),
        ["DateOnly"] = text => SameKey<DateOnly>(text, RequestText.TryParse),
        ["TimeOnly"] = text => SameKey<TimeOnly>(text, RequestText.TryParse),
        ["TimeSpan"] = text => SameKey<TimeSpan>(text, RequestText.TryParse),
        ["enum"] = text => SameKey<Color>(text, RequestText.TryParseEnum),
        ["string"] = text => SameStringKey(text),
    };

    [Theory]
    [InlineData("bool", "true")]
    [InlineData("bool", "True")]
    [InlineData("bool", "FALSE")]
    [InlineData("bool", " true ")]
    [InlineData("bool", "1")]
    [InlineData("char", "a")]
    [InlineData("char", ":")]
    [InlineData("char", "ab")]
    [InlineData("sbyte", "-128")]
    [InlineData("byte", "+5")]
    [InlineData("byte", "256")]
    [InlineData("short", "05")]
    [InlineData("ushort", "-1")]
    [InlineData("int", "5")]
    [InlineData("int", "+5")]
    [InlineData("int", "05")]
    [InlineData("int", " 5 ")]
    [InlineData("int", "1,000")]
    [InlineData("int", "1.0")]
    [InlineData("int", "0x10")]
    [InlineData("int", "")]
    [InlineData("uint", "4294967295")]
    [InlineData("long", "-9223372036854775808")]
    [InlineData("ulong", "18446744073709551615")]
    [InlineData("float", "1.0")]
    [InlineData("float", "0.1")]
    [InlineData("float", "16777217")]
    [InlineData("double", "1.0")]
    [InlineData("double", "1")]
    [InlineData("double", "1e3")]
    [InlineData("double", "1,000.5")]
    [InlineData("double", "0.1")]
    [InlineData("double", "0.30000000000000004")]
    [InlineData("double", "-0")]
    [InlineData("double", "NaN")]
    [InlineData("double", "Infinity")]
    [InlineData("double", "1,5")]
    [InlineData("decimal", "1.0")]
    [InlineData("decimal", "1")]
    [InlineData("decimal", "1.10")]
    [InlineData("decimal", "+5")]
    [InlineData("decimal", "1,000.25")]
    [InlineData("decimal", "1e3")]
    [InlineData("decimal", "79228162514264337593543950335")]
    [InlineData("decimal", "0.0000000000000000000000000001")]
    [InlineData("Guid", "0f8fad5b-d9cb-469f-a165-70867728950e")]
    [InlineData("Guid", "0F8FAD5B-D9CB-469F-A165-70867728950E")]
    [InlineData("Guid", "{0f8fad5b-d9cb-469f-a165-70867728950e}")]
    [InlineData("Guid", "0f8fad5bd9cb469fa16570867728950e")]
    [InlineData("Guid", "not-a-guid")]
    [InlineData("DateTime", "2024-01-02")]
    [InlineData("DateTime", "2024-01-02T03:04:05")]
    [InlineData("DateTime", "2024-01-02T03:04:05Z")]
    [InlineData("DateTime", "2024-01-02T03:04:05+02:00")]
    [InlineData("DateTime", "2024-01-02T03:04:05.1234567")]
    [InlineData("DateTime", "01/02/2024")]
    [InlineData("DateTimeOffset", "2024-01-02T03:04:05")]
    [InlineData("DateTimeOffset", "2024-01-02T03:04:05+02:00")]
    [InlineData("DateTimeOffset", "2024-01-02T01:04:05Z")]
    [InlineData("DateOnly", "2024-01-02")]
    [InlineData("DateOnly", "01/02/2024")]
    [InlineData("DateOnly", " 2024-1-2 ")]
    [InlineData("TimeOnly", "03:04:05")]
    [InlineData("TimeOnly", "03:04:59")]
    [InlineData("TimeOnly", "03:04")]
    [InlineData("TimeOnly", "03:04:05.1234567")]
    [InlineData("TimeOnly", "3:04 PM")]
    [InlineData("TimeSpan", "1.02:03:04.5")]
    [InlineData("TimeSpan", "02:03")]
    [InlineData("TimeSpan", "-00:00:01")]
    [InlineData("enum", "Red")]
    [InlineData("enum", "1")]
    [InlineData("enum", "red")]
    [InlineData("enum", "Red,Blue")]
    [InlineData("enum", "5")]
    [InlineData("enum", "7")]
    [InlineData("enum", " Green ")]
    [InlineData("enum", "Purple")]
    [InlineData("string", "a b:c_d")]
    [InlineData("string", "")]
    public void The_key_from_the_request_text_is_the_key_from_the_bound_argument(string type, string text)
        => Checks[type](text);

    [Fact]
    public void Equal_values_written_differently_share_one_key()
    {
        Assert.Equal(HitKey<int>("5", RequestText.TryParse), HitKey<int>("+05", RequestText.TryParse));
        Assert.Equal(HitKey<double>("1", RequestText.TryParse), HitKey<double>("1.0", RequestText.TryParse));
        Assert.Equal(HitKey<Color>("Red", RequestText.TryParseEnum), HitKey<Color>("1", RequestText.TryParseEnum));
        Assert.Equal(HitKey<Guid>("0f8fad5b-d9cb-469f-a165-70867728950e", RequestText.TryParse), HitKey<Guid>("0F8FAD5B-D9CB-469F-A165-70867728950E", RequestText.TryParse));
        Assert.Equal(HitKey<bool>("True", RequestText.TryParse), HitKey<bool>("true", RequestText.TryParse));
    }

    [Fact]
    public void Times_that_differ_in_seconds_or_ticks_have_different_keys()
    {
        Assert.NotEqual(HitKey<TimeOnly>("03:04:05", RequestText.TryParse), HitKey<TimeOnly>("03:04:59", RequestText.TryParse));
        Assert.NotEqual(HitKey<TimeOnly>("03:04:05", RequestText.TryParse), HitKey<TimeOnly>("03:04:05.0000001", RequestText.TryParse));
        Assert.Equal("03%3A04%3A05.0000000", HitKey<TimeOnly>("03:04:05", RequestText.TryParse));
        Assert.Equal("2024-01-02", HitKey<DateOnly>("2024-01-02", RequestText.TryParse));
    }

    private static string? HitKey<T>(string text, Parser<T> parse) => parse(text, out T value) ? CacheKey.EncodeValue(value) : null;

    // One request, both paths, for T and for T?.
    private static void SameKey<T>(string text, Parser<T> parse)
        where T : struct
    {
        (bool bound, T value) = Bind<T>(text);
        string? filterKey = bound ? CacheKey.EncodeValue(value) : null;
        string? hitKey = parse(text, out T parsed) ? CacheKey.EncodeValue(parsed) : null;
        Assert.True(filterKey == hitKey, $"{typeof(T).Name} \"{text}\": bound to key {filterKey ?? "(400)"}, the hit path formed {hitKey ?? "(none)"}");

        (bool boundNullable, T? nullable) = Bind<T?>(text);
        string? filterNullable = boundNullable ? CacheKey.EncodeValue(nullable) : null;
        string? hitNullable = parse(text, out T parsedNullable) ? CacheKey.EncodeValue<T?>(parsedNullable) : null;

        // The hit path declines what it does not parse (the request takes the usual path); what it answers must match.
        if (hitNullable is not null)
        {
            Assert.True(filterNullable == hitNullable, $"{typeof(T).Name}? \"{text}\": bound to key {filterNullable ?? "(400)"}, the hit path formed {hitNullable}");
        }
    }

    private static void SameStringKey(string text)
    {
        (bool bound, string? value) = Bind<string>(text);
        Assert.True(bound);
        Assert.Equal(CacheKey.EncodeValue(value), CacheKey.EncodeValue(text));
    }

    // Binds ?v={text} to a handler parameter of type T with ASP.NET Core's own binder.
    private static (bool Bound, T Value) Bind<T>(string text)
    {
        T captured = default!;
        bool called = false;
        Func<T, int> handler = v =>
        {
            captured = v;
            called = true;
            return 0;
        };
        RequestDelegateResult result = RequestDelegateFactory.Create(handler, new RequestDelegateFactoryOptions { ServiceProvider = Services });
        var http = new DefaultHttpContext { RequestServices = Services };
        http.Request.QueryString = QueryString.Create("v", text);
        http.Response.Body = Stream.Null;
        result.RequestDelegate(http).GetAwaiter().GetResult();
        Assert.True(called || http.Response.StatusCode == 400, $"{typeof(T).Name} \"{text}\": neither bound nor rejected");
        return (called, captured);
    }
}
