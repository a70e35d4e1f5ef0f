using System.Diagnostics;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Caching.Runtime.Tests.Outages;

/// <summary>
/// One primary of a real three-primary cluster is killed: its keys fail fast, the keys of the primaries that are
/// up are still served, and invalidations that would miss the dead primary fail (so they are queued and replayed)
/// instead of reporting success.
/// </summary>
[Collection("outages")]
public sealed class ClusterPartialOutageTests(ITestOutputHelper output)
{
    private static readonly byte[] Value = "\"cached\""u8.ToArray();

    [Fact]
    public async Task With_one_primary_down_its_keys_fail_fast_and_keys_on_live_primaries_still_hit()
    {
        await using RedisCluster cluster = await RedisCluster.StartAsync();
        await using ServiceProvider services = Build(cluster);
        CacheEngine engine = services.GetRequiredService<CacheEngine>();
        int deadPort = cluster.Ports[0];
        string[] all = Enumerable.Range(0, 2000).Select(i => $"post:{i}").ToArray();
        string[] deadKeys = all.Where(k => cluster.PortOf(k) == deadPort).Take(10).ToArray();
        string[] liveKeys = all.Where(k => cluster.PortOf(k) != deadPort).Take(10).ToArray();
        foreach (string key in deadKeys.Concat(liveKeys))
        {
            Assert.True(await engine.SetAsync(key, Value, new CacheEntryOptions { Expiration = TimeSpan.FromMinutes(10), Tags = ["posts"] }));
        }

        // Measured right after the kill, within the cluster's node timeout (5 s in RedisCluster): past it, with
        // cluster-require-full-coverage (the default) the live primaries refuse every key too (CLUSTERDOWN).
        cluster.KillNode(deadPort);

        // Warm-up: the first reads of dead-node keys may pay for the client noticing the loss (or open the breaker).
        var warmUp = Stopwatch.StartNew();
        for (int i = 0; i < 3; i++)
        {
            await TryGetAsync(engine, deadKeys[i]);
        }

        output.WriteLine($"3 warm-up reads of dead-node keys: {warmUp.Elapsed.TotalMilliseconds:F0} ms");

        // Measured: dead-node and live-node reads interleaved (successes on live nodes must not keep a dead node costly).
        var dead = new List<double>();
        int liveHits = 0;
        for (int i = 0; i < 10; i++)
        {
            long started = Stopwatch.GetTimestamp();
            (bool deadHit, _) = await TryGetAsync(engine, deadKeys[i]);
            dead.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Assert.False(deadHit);
            (bool liveHit, Exception? error) = await TryGetAsync(engine, liveKeys[i]);
            if (liveHit)
            {
                liveHits++;
            }
            else
            {
                output.WriteLine($"live key {liveKeys[i]} missed: {error?.GetType().Name}: {error?.Message}");
            }
        }

        output.WriteLine($"10 reads of dead-node keys: {dead.Sum():F1} ms in total, max {dead.Max():F1} ms; live-node hits {liveHits}/10");
        Assert.True(dead.Sum() < 2000, $"10 reads of dead-node keys took {dead.Sum():F0} ms");
        Assert.Equal(10, liveHits);
    }

    [Fact]
    public async Task With_one_primary_down_pattern_and_tag_invalidations_fail_instead_of_reporting_success()
    {
        await using RedisCluster cluster = await RedisCluster.StartAsync();
        await using ServiceProvider services = Build(cluster);
        CacheEngine engine = services.GetRequiredService<CacheEngine>();
        int deadPort = cluster.Ports[0];
        string[] all = Enumerable.Range(0, 2000).Select(i => $"post:{i}").ToArray();
        string deadKey = all.First(k => cluster.PortOf(k) == deadPort);
        string liveKey = all.First(k => cluster.PortOf(k) != deadPort);

        // A tag whose index lives on a primary that stays up, with members on the dead one.
        string tag = Enumerable.Range(0, 1000).Select(i => $"t{i}").First(t => cluster.PortOf("caching:tag:" + t) != deadPort);
        foreach (string key in new[] { deadKey, liveKey })
        {
            Assert.True(await engine.SetAsync(key, Value, new CacheEntryOptions { Expiration = TimeSpan.FromMinutes(10), Tags = [tag] }));
        }

        cluster.KillNode(deadPort);
        await Task.Delay(200);

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<CacheStoreUnavailableException>(async () => await engine.InvalidatePatternAsync("post:*"));
        await Assert.ThrowsAsync<CacheStoreUnavailableException>(async () => await engine.InvalidateTagAsync(tag));
        await Assert.ThrowsAsync<CacheStoreUnavailableException>(async () => await engine.InvalidateKeysAsync([liveKey, deadKey]));
        output.WriteLine($"three failed invalidations: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the failing invalidations took {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    private static ServiceProvider Build(RedisCluster cluster)
    {
        var services = new ServiceCollection();
        services.AddAttributeCaching(o => o.UseRedis(cluster.ConnectionString));
        return services.BuildServiceProvider();
    }

    private static async Task<(bool Hit, Exception? Error)> TryGetAsync(CacheEngine engine, string key)
    {
        try
        {
            CacheLookup lookup = await engine.GetAsync(key, null, "post");
            return (lookup.IsHit, null);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            return (false, ex);
        }
    }
}

[CollectionDefinition("outages", DisableParallelization = true)]
public sealed class OutagesCollection;
