using Caching.Runtime.Tests.Infrastructure;

namespace Caching.Runtime.Tests.Outages;

/// <summary>
/// <see cref="ICache.GetOrCreateAsync{T}"/> goes through the endpoints' read-through, so the store failing never
/// fails the call: the factory answers and nothing is stored.
/// </summary>
[Collection("outages")]
public sealed class GetOrCreateOutageTests
{
    [Fact]
    public async Task With_redis_down_GetOrCreate_returns_the_factory_value_instead_of_throwing()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        await using RedisHarness harness = await RedisHarness.CreateAsync(redis);
        var entry = new CacheEntryOptions { KeyPrefix = "report", Expiration = TimeSpan.FromMinutes(5) };
        Assert.Equal("stored", await harness.Cache.GetOrCreateAsync("report:1", _ => ValueTask.FromResult("stored"), entry));
        Assert.Equal("stored", await harness.Cache.GetOrCreateAsync("report:1", _ => ValueTask.FromResult("not used"), entry));

        redis.Kill();

        int runs = 0;
        string[] values = new string[3];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = await harness.Cache.GetOrCreateAsync("report:2", _ =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult("fresh");
            }, entry);
        }

        Assert.All(values, v => Assert.Equal("fresh", v));
        Assert.Equal(3, runs); // nothing could be stored, so every call loads
    }
}
