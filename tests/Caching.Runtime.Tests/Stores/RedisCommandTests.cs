using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;
using StackExchange.Redis;

namespace Caching.Runtime.Tests.Stores;

/// <summary>Which Redis commands the store sends, read from the server's own INFO commandstats.</summary>
[Collection("redis")]
public sealed class RedisCommandTests(RedisFixture redis) : IAsyncLifetime
{
    private RedisHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await RedisHarness.CreateAsync(redis.Server, o => o.ScanPageSize = 100);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Pattern_delete_uses_scan_and_unlink_never_keys_or_del()
    {
        await _harness.FillAsync(Enumerable.Range(0, 2000).Select(i => $"post:{i}").ToArray(), [1], TimeSpan.FromMinutes(5));
        await redis.Server.Server.ConfigResetStatisticsAsync();

        PatternDeleteResult result = await _harness.Store.DeleteByPatternAsync("post:*");

        Assert.Equal(2000, result.Deleted);
        Dictionary<string, long> calls = await CommandCallsAsync();
        Assert.True(calls.GetValueOrDefault("scan") >= 2000 / 100, $"expected SCAN pages of 100, got {calls.GetValueOrDefault("scan")}");
        Assert.True(calls.GetValueOrDefault("unlink") > 0, "expected UNLINK");
        Assert.False(calls.ContainsKey("keys"), "KEYS was sent");
        Assert.False(calls.ContainsKey("del"), "DEL was sent instead of UNLINK");
    }

    [Fact]
    public async Task Set_is_one_script_whose_write_carries_the_time_to_live()
    {
        await redis.Server.Server.ConfigResetStatisticsAsync();

        await _harness.Store.SetAsync("post:5", "x"u8.ToArray(), TimeSpan.FromSeconds(90));

        Dictionary<string, long> calls = await CommandCallsAsync();
        string seen = string.Join(", ", calls.Select(c => $"{c.Key}={c.Value}"));

        // One round trip: a script that writes the entry with SET ... PX (never a separate EXPIRE on it) and files it
        // in its slot's index of stored keys (the only PEXPIRE, on the index, keeps the index alive).
        long scripts = calls.GetValueOrDefault("evalsha") + calls.GetValueOrDefault("eval");
        long writes = calls.GetValueOrDefault("set") + calls.GetValueOrDefault("setex") + calls.GetValueOrDefault("psetex");
        Assert.True(scripts == 1, $"expected one script call, got: {seen}");
        Assert.True(writes == 1, $"expected one write command, got: {seen}");
        Assert.True(calls.GetValueOrDefault("zadd") == 1, $"expected the key filed once in the index, got: {seen}");
        Assert.False(calls.ContainsKey("expire"), "a separate EXPIRE was sent");
        Assert.True(calls.GetValueOrDefault("pexpire") <= 1, $"at most the index's PEXPIRE, got: {seen}");
        TimeSpan? ttl = await redis.Server.Connection.GetDatabase().KeyTimeToLiveAsync("post:5");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(80), TimeSpan.FromSeconds(90));
    }

    private async Task<Dictionary<string, long>> CommandCallsAsync()
    {
        var calls = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        IGrouping<string, KeyValuePair<string, string>>[] info = await redis.Server.Server.InfoAsync("commandstats");
        foreach (KeyValuePair<string, string> pair in info.SelectMany(g => g))
        {
            // cmdstat_unlink: calls=3,usec=...
            string name = pair.Key.Replace("cmdstat_", string.Empty, StringComparison.Ordinal);
            string callsPart = pair.Value.Split(',')[0];
            calls[name] = long.Parse(callsPart["calls=".Length..]);
        }

        return calls;
    }
}
