using System.Diagnostics;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Caching.Runtime.Tests.Outages;

/// <summary>
/// Two two-level instances (two connections) on one real redis-server: an instance that cannot hear invalidations
/// serves nothing from its local level, and invalidations that failed during an outage go out once Redis answers.
/// </summary>
[Collection("outages")]
public sealed class TwoLevelOutageTests(ITestOutputHelper output)
{
    private static readonly byte[] Old = "\"old\""u8.ToArray();
    private static readonly byte[] New = "\"new\""u8.ToArray();
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task An_instance_whose_connection_was_killed_never_serves_its_old_local_copy_after_another_instance_wrote()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        await using TwoLevelCacheStore a = await CreateAsync(redis, "instance-a");
        await using TwoLevelCacheStore b = await CreateAsync(redis, "instance-b");
        var stale = 0;
        for (int round = 0; round < 5; round++)
        {
            string key = $"post:{round}";
            await SetAndWaitForDeliveryAsync(a, b, key, Old);
            await WaitUntilAsync(() => b.IsListening, "B to listen");
            Assert.Equal(Old, await b.GetAsync(key));
            Assert.NotNull(await b.Local.GetAsync(key));

            // B loses its connections (interactive and subscription) and cannot reconnect for a while (maxclients
            // leaves no room); A, still connected, writes at once.
            ClientInfo[] clients = await redis.Server.ClientListAsync();
            await redis.Server.ConfigSetAsync("maxclients", clients.Count(c => c.Name != "instance-b").ToString());
            foreach (ClientInfo client in clients)
            {
                if (client.Name == "instance-b")
                {
                    await redis.Server.ClientKillAsync(client.Address!);
                }
            }

            await a.SetAsync(key, New, Ttl);

            // From the moment A's write returned, B never answers with its old copy.
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(1.5))
            {
                if (await TryGetAsync(b, key) is { } read && read.AsSpan().SequenceEqual(Old))
                {
                    stale++;
                }

                await Task.Delay(5);
            }

            await redis.Server.ConfigSetAsync("maxclients", "10000");
            output.WriteLine($"round {round}: reads of B returning the old copy in the 1.5 s after A's write returned: {stale}");
            Assert.Equal(0, stale);
            await WaitUntilAsync(() => b.IsListening, "B to listen again");
            Assert.Equal(New, await b.GetAsync(key));
        }

        // Back to normal: B serves from its local level again.
        await WaitUntilAsync(() => b.IsListening, "B to listen");
        Assert.Equal(New, await b.GetAsync("post:0"));
        Assert.NotNull(await b.Local.GetAsync("post:0"));
    }

    [Fact]
    public async Task After_a_redis_restart_no_instance_serves_a_local_copy_older_than_a_write_that_returned()
    {
        // appendfsync always: the old value is back after the restart, stale unless the write replaces it.
        await using RedisServer redis = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        await using TwoLevelCacheStore a = await CreateAsync(redis, "instance-a");
        await using TwoLevelCacheStore b = await CreateAsync(redis, "instance-b");
        await WaitUntilAsync(() => a.IsListening && b.IsListening, "A and B to listen");
        await SetAndWaitForDeliveryAsync(a, b, "post:1", Old);
        Assert.Equal(Old, await b.GetAsync("post:1"));
        Assert.NotNull(await b.Local.GetAsync("post:1"));

        redis.Kill();

        // Once B's client has seen its connection drop (a few ms), B's local level is not used: its reads fail (or
        // miss), never the old copy. Nobody can invalidate anything before that: Redis is down for every instance.
        var noticed = Stopwatch.StartNew();
        await WaitUntilAsync(() => !b.IsListening, "B to notice the outage");
        output.WriteLine($"B stopped serving its local level {noticed.Elapsed.TotalMilliseconds:F1} ms after redis-server was killed");
        var outage = Stopwatch.StartNew();
        int servedDuringOutage = 0;
        while (outage.Elapsed < TimeSpan.FromMilliseconds(500))
        {
            if (await TryGetAsync(b, "post:1") is not null)
            {
                servedDuringOutage++;
            }

            await Task.Delay(10);
        }

        output.WriteLine($"reads B served during 500 ms of outage: {servedDuringOutage}");
        Assert.Equal(0, servedDuringOutage);

        await redis.RestartAsync();
        var restarted = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await a.SetAsync("post:1", New, Ttl);
                break;
            }
            catch (Exception ex) when (ex is CacheStoreUnavailableException or RedisException && restarted.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(20);
            }
        }

        output.WriteLine($"A's write succeeded {restarted.Elapsed.TotalMilliseconds:F0} ms after redis-server answered again");
        int stale = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            if (await TryGetAsync(b, "post:1") is { } read && read.AsSpan().SequenceEqual(Old))
            {
                stale++;
            }

            await Task.Delay(5);
        }

        output.WriteLine($"reads of B returning the old copy in the 3 s after A's write returned: {stale}");
        Assert.Equal(0, stale);
        await WaitUntilAsync(() => b.IsListening, "B to listen again");
        output.WriteLine($"B listening again {restarted.Elapsed.TotalMilliseconds:F0} ms after redis-server answered again");
        Assert.Equal(New, await b.GetAsync("post:1"));
    }

    [Fact]
    public async Task An_invalidation_that_failed_during_an_outage_is_carried_out_and_published_as_soon_as_redis_answers()
    {
        await using RedisServer redis = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        await using TwoLevelCacheStore a = await CreateAsync(redis, "instance-a");
        await using TwoLevelCacheStore b = await CreateAsync(redis, "instance-b");
        await WaitUntilAsync(() => a.IsListening && b.IsListening, "A and B to listen");
        await SetAndWaitForDeliveryAsync(a, b, "post:1", Old);
        Assert.Equal(Old, await b.GetAsync("post:1"));

        redis.Kill();
        await Assert.ThrowsAnyAsync<Exception>(async () => await a.DeleteAsync(["post:1"]));
        Assert.Equal(1, a.HeldInvalidations);

        await redis.RestartAsync();
        var restarted = Stopwatch.StartNew();
        IDatabase admin = redis.Connection.GetDatabase();
        await WaitUntilAsync(() => !admin.KeyExists("post:1"), "the held delete to reach Redis");
        output.WriteLine($"held delete carried out {restarted.Elapsed.TotalMilliseconds:F0} ms after redis-server answered again");
        Assert.True(restarted.Elapsed < TimeSpan.FromSeconds(5), $"the held delete took {restarted.Elapsed.TotalMilliseconds:F0} ms");
        await WaitUntilAsync(() => a.HeldInvalidations == 0, "A's held invalidations to be published");
        await WaitUntilAsync(() => b.IsListening, "B to listen again");
        Assert.Null(await b.GetAsync("post:1"));
    }

    private static async Task<TwoLevelCacheStore> CreateAsync(RedisServer redis, string name)
    {
        // As CacheStoreFactory connects: start even when down, fail fast while disconnected.
        ConfigurationOptions configuration = redis.ClientConfiguration();
        configuration.ClientName = name;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ConnectTimeout = 1000;
        configuration.SyncTimeout = 1000;
        configuration.AsyncTimeout = 1000;
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        IOptions<CachingOptions> options = Options.Create(new CachingOptions());
        var remote = new RedisCacheStore(connection, ownsConnection: true, options, TimeProvider.System, NullLogger<RedisCacheStore>.Instance);
        var local = new InMemoryCacheStore(options, TimeProvider.System);
        return new TwoLevelCacheStore(remote, local, TimeSpan.FromSeconds(30), NullLogger<TwoLevelCacheStore>.Instance);
    }

    // A copy read while the writer's own message is still on its way is not kept locally: wait for it first.
    private static async Task SetAndWaitForDeliveryAsync(TwoLevelCacheStore writer, TwoLevelCacheStore reader, string key, byte[] value)
    {
        await WaitUntilAsync(() => writer.IsListening && reader.IsListening, "both instances to listen");
        long received = reader.MessagesReceived;
        await writer.SetAsync(key, value, Ttl);
        await WaitUntilAsync(() => reader.MessagesReceived > received, "the reader to hear the write");
    }

    private static async Task<byte[]?> TryGetAsync(ICacheStore store, string key)
    {
        try
        {
            return await store.GetAsync(key);
        }
        catch (Exception ex) when (ex is CacheStoreUnavailableException or RedisException or TimeoutException)
        {
            return null;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }

            await Task.Delay(10);
        }
    }
}
