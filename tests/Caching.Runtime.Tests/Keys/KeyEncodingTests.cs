using System.Globalization;
using Caching.Keys;

namespace Caching.Runtime.Tests.Keys;

public sealed class KeyEncodingTests
{
    [Theory]
    [InlineData("42", "42")]
    [InlineData("en-US", "en-US")]
    [InlineData("3.5", "3.5")]
    [InlineData("a:b", "a%3Ab")]
    [InlineData("a_b", "a%5Fb")]
    [InlineData("a*", "a%2A")]
    [InlineData("[x]", "%5Bx%5D")]
    [InlineData("\\", "%5C")]
    [InlineData("%2A", "%252A")]
    [InlineData("~", "%7E")]
    [InlineData("é", "%C3%A9")]
    [InlineData("𝄞", "%F0%9D%84%9E")]
    [InlineData("", "")]
    public void Encode_keeps_letters_digits_dash_dot_and_escapes_the_rest(string value, string expected)
    {
        Assert.Equal(expected, KeyEncoding.Encode(value));
        Assert.Equal(expected.Length, KeyEncoding.GetEncodedLength(value));
    }

    [Fact]
    public void Null_has_its_own_encoding()
    {
        Assert.Equal("~", KeyEncoding.Encode(null));
        Assert.NotEqual(KeyEncoding.Encode(null), KeyEncoding.Encode(""));
        Assert.NotEqual(KeyEncoding.Encode(null), KeyEncoding.Encode("~"));
    }

    [Fact]
    public void Encoded_values_never_contain_separators_or_glob_characters()
    {
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            string value = new(Enumerable.Range(0, random.Next(0, 12)).Select(_ => (char)random.Next(0, 0x3000)).ToArray());
            string encoded = KeyEncoding.Encode(value);
            Assert.DoesNotContain(encoded, c => c is ':' or '_' or '*' or '?' or '[' or ']' or '\\' or '{' or '}' or ' ');
        }
    }

    [Fact]
    public void Different_values_never_yield_the_same_key()
    {
        // The model decorator's collision: user "a_b" page "c" vs user "a" page "b_c".
        Assert.NotEqual(CacheKey.Format($"user_{"a_b"}_{"c"}"), CacheKey.Format($"user_{"a"}_{"b_c"}"));
        Assert.NotEqual(CacheKey.Format($"x:{"a:b"}:{"c"}"), CacheKey.Format($"x:{"a"}:{"b:c"}"));

        var random = new Random(11);
        var seen = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        const string alphabet = "ab_:%~*\\";
        for (int i = 0; i < 20_000; i++)
        {
            string a = new(Enumerable.Range(0, random.Next(0, 4)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            string b = new(Enumerable.Range(0, random.Next(0, 4)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            string key = CacheKey.Format($"user_{a}_posts:{b}");
            if (seen.TryGetValue(key, out (string A, string B) earlier))
            {
                Assert.Equal(earlier, (a, b));
            }

            seen[key] = (a, b);
        }
    }

    [Fact]
    public void Lone_surrogates_never_collide_with_the_replacement_character_or_each_other()
    {
        string high = "\ud800";
        string low = "\udc00";
        string replacement = "\ufffd";

        Assert.Equal("%ED%A0%80", KeyEncoding.Encode(high));
        Assert.Equal("%EF%BF%BD", KeyEncoding.Encode(replacement));
        Assert.Equal(3, new[] { KeyEncoding.Encode(high), KeyEncoding.Encode(low), KeyEncoding.Encode(replacement) }.Distinct().Count());
        Assert.Equal(KeyEncoding.Encode(high).Length, KeyEncoding.GetEncodedLength(high));
        Assert.Equal("%F0%9D%84%9E", KeyEncoding.Encode("\ud834\udd1e"));
    }

    [Fact]
    public void Values_are_formatted_with_the_invariant_culture()
    {
        CultureInfo original = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Assert.Equal("price:3.5", CacheKey.Create("price", 3.5));
            Assert.Equal("n:1234567", CacheKey.Format($"n:{1234567}"));
        }
        finally
        {
            CultureInfo.CurrentCulture = original;
        }
    }

    [Fact]
    public void Dates_keep_their_full_precision()
    {
        var a = new DateTime(2026, 1, 1, 10, 0, 0, 1, DateTimeKind.Utc);
        var b = a.AddTicks(1);

        Assert.NotEqual(CacheKey.Create("day", a), CacheKey.Create("day", b));
        Assert.Equal("day:" + KeyEncoding.Encode(a.ToString("O", CultureInfo.InvariantCulture)), CacheKey.Create("day", a));
    }

    [Fact]
    public void Create_builds_prefix_colon_id()
    {
        Assert.Equal("post:5", CacheKey.Create("post", 5));
        Assert.Equal("user_42_posts:2", CacheKey.Format($"user_{42}_posts:{2}"));
        Assert.Equal("post:~", CacheKey.Create<string?>("post", null));
        Assert.Equal("g:" + Guid.Empty.ToString(), CacheKey.Create("g", Guid.Empty));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Create_rejects_an_empty_prefix(string? prefix)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => CacheKey.Create(prefix!, 1));
        Assert.Contains("prefix", error.Message);
    }

    [Fact]
    public void Pattern_values_are_literal_and_template_text_stays_glob()
    {
        string pattern = CachePattern.Format($"user_{"a*"}_posts:*");

        Assert.Equal("user_a%2A_posts:*", pattern);
        Assert.True(RedisGlob.IsMatch(pattern, CacheKey.Format($"user_{"a*"}_posts:{1}")));
        Assert.False(RedisGlob.IsMatch(pattern, CacheKey.Format($"user_{"ab"}_posts:{1}")));
    }

    [Fact]
    public void Long_values_grow_the_buffer()
    {
        string value = new('x', 5000);
        Assert.Equal("k:" + value, CacheKey.Create("k", value));
        Assert.Equal(3 * 3000 + 2, CacheKey.Create("k", new string(':', 3000)).Length);
    }
}
