using System.Text;
using Caching.Keys;
using Caching.Runtime.Tests.Infrastructure;
using StackExchange.Redis;

namespace Caching.Runtime.Tests.Keys;

public sealed class RedisGlobTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a*b", "a\\*b")]
    [InlineData("?[]\\", "\\?\\[\\]\\\\")]
    [InlineData("", "")]
    public void Escape_puts_a_backslash_before_each_glob_character(string literal, string expected)
    {
        Assert.Equal(expected, RedisGlob.Escape(literal));
    }

    [Theory]
    [InlineData("a*b")]
    [InlineData("?")]
    [InlineData("[x]")]
    [InlineData("\\")]
    [InlineData("a\\b*[^c]?")]
    public void An_escaped_literal_matches_itself_and_nothing_else(string literal)
    {
        string pattern = RedisGlob.Escape(literal);

        Assert.True(RedisGlob.IsMatch(pattern, literal));
        Assert.False(RedisGlob.IsMatch(pattern, literal + "x"));
        Assert.False(RedisGlob.IsMatch(pattern, "x" + literal));
        Assert.False(RedisGlob.HasWildcard(pattern));
    }

    [Theory]
    [InlineData("post:*", true)]
    [InlineData("post:?", true)]
    [InlineData("post:[1]", true)]
    [InlineData("post:\\*", false)]
    [InlineData("post:1", false)]
    public void HasWildcard_sees_only_unescaped_wildcards(string pattern, bool expected)
    {
        Assert.Equal(expected, RedisGlob.HasWildcard(pattern));
    }

    [Fact]
    public void Abusive_patterns_finish_quickly_without_matching()
    {
        string pattern = string.Concat(Enumerable.Repeat("*a", 2000)) + "b";
        string key = new('a', 5000);

        Assert.False(RedisGlob.IsMatch(pattern, key));
    }
}

/// <summary>Differential test: our matcher and a real redis-server's SCAN MATCH agree on random patterns and keys.</summary>
[Collection("redis")]
public sealed class RedisGlobAgreesWithRedisTests(RedisFixture redis)
{
    private const string PatternAlphabet = "ab*?[]^-\\";
    private const string KeyAlphabet = "ab-]^[\\*";

    [Fact]
    public async Task Matcher_agrees_with_redis_on_2000_random_patterns()
    {
        await redis.Server.FlushAsync();
        var random = new Random(20261123);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (keys.Count < 300)
        {
            keys.Add(RandomText(random, KeyAlphabet, 1, 5));
        }

        IDatabase db = redis.Server.Connection.GetDatabase();
        await Task.WhenAll(keys.Select(k => db.StringSetAsync(k, "1")));

        var disagreements = new List<string>();
        for (int i = 0; i < 2000 && disagreements.Count < 10; i++)
        {
            string pattern = RandomText(random, PatternAlphabet, 1, 6);
            var fromRedis = new HashSet<string>(StringComparer.Ordinal);
            await foreach (RedisKey key in redis.Server.Server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                fromRedis.Add(key!);
            }

            var ours = keys.Where(k => RedisGlob.IsMatch(pattern, k)).ToHashSet(StringComparer.Ordinal);
            if (!ours.SetEquals(fromRedis))
            {
                disagreements.Add($"pattern '{pattern}': redis [{string.Join(", ", fromRedis.Order())}] ours [{string.Join(", ", ours.Order())}]");
            }
        }

        Assert.Empty(disagreements);
    }

    [Fact]
    public async Task Matcher_agrees_with_redis_on_non_ascii_bytes()
    {
        await redis.Server.FlushAsync();
        string[] keys = ["é", "è", "ü", "a", "ß", "日本", "€"];
        string[] patterns = ["[à-ü]*", "?", "??", "???", "[^a]*", "*\u00bc", "[é]?", "\\é", "[\u00e0-\u00ff]?", "[a-é]*"];
        IDatabase db = redis.Server.Connection.GetDatabase();
        await Task.WhenAll(keys.Select(k => db.StringSetAsync(k, "1")));

        foreach (string pattern in patterns)
        {
            var fromRedis = new HashSet<string>(StringComparer.Ordinal);
            await foreach (RedisKey key in redis.Server.Server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                fromRedis.Add(Encoding.UTF8.GetString((byte[])key!));
            }

            var ours = keys.Where(k => RedisGlob.IsMatch(pattern, k)).ToHashSet(StringComparer.Ordinal);
            Assert.True(ours.SetEquals(fromRedis), $"pattern '{pattern}': redis [{string.Join(", ", fromRedis)}] ours [{string.Join(", ", ours)}]");
        }
    }

    private static string RandomText(Random random, string alphabet, int min, int max)
    {
        int length = random.Next(min, max + 1);
        var chars = new char[length];
        for (int i = 0; i < length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }

        return new string(chars);
    }
}
