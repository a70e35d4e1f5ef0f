using System.Diagnostics;
using System.Text.Json;
using Caching;
using Caching.Diagnostics;
using Caching.Keys;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

// Invalidation at scale: a pattern delete of 100,000 matching keys among 1,000,000, three ways (ours, the model
// decorator's loop, a floor), tag invalidation of the same 100,000 keys, and namespace invalidation at 1,000 and
// 1,000,000 entries; on one redis-server and on a three-primary cluster, all started here on loopback.
// Also clear-all (ICache.InvalidateAllAsync's store part): --matching entries stored through the store (so filed in
// its per-slot indexes) among the other keys, which it must leave; and the cost of those stores against plain SETs.
//   dotnet run -c Release --project benchmarks/Caching.Benchmarks.Invalidation -- [--keys 1000000] [--matching 100000] [--runs 3] [--only clear] [--out docs/benchmarks]
int total = Argument("--keys", 1_000_000);
int matching = Argument("--matching", 100_000);
int runs = Argument("--runs", 3);
int scanPage = Argument("--scan-page", new CachingOptions().ScanPageSize);
bool clearOnly = ArgumentText("--only", null) == "clear";
string output = ArgumentText("--out", null) ?? Path.Combine("docs", "benchmarks");
Directory.CreateDirectory(output);

var results = new List<Result>();
await using (RedisServer single = await RedisServer.StartAsync())
{
    results.AddRange(await RunAsync("single node", single, total, matching, runs, scanPage, clearOnly));
}

await using (RedisCluster cluster = await RedisCluster.StartAsync())
{
    results.AddRange(await RunAsync("3-node cluster", cluster, total, matching, runs, scanPage, clearOnly));
}

string json = Path.Combine(output, clearOnly ? "clear-all.json" : "invalidation.json");
await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new { total, matching, runs, scanPage, machine = Environment.ProcessorCount + " cores", results }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
Console.WriteLine($"wrote {json}");
return 0;

static async Task<List<Result>> RunAsync(string deployment, IRedisDeployment redis, int total, int matching, int runs, int scanPage, bool clearOnly)
{
    Console.WriteLine($"== {deployment}: {total:N0} keys, {matching:N0} matching, {runs} runs each, SCAN COUNT {scanPage}");
    ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(redis.ClientConfiguration());
    IOptions<CachingOptions> options = Options.Create(new CachingOptions { ScanPageSize = scanPage });
    var store = new RedisCacheStore(connection, ownsConnection: false, options, TimeProvider.System, NullLogger<RedisCacheStore>.Instance);
    using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    var engine = new CacheEngine(store, options, new CachingMetrics(meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), NullLogger<CacheEngine>.Instance);
    IDatabase db = connection.GetDatabase();
    string[] matchingKeys = Enumerable.Range(0, matching).Select(i => CacheKey.Format($"user_{7}_posts:{i}")).ToArray();
    string pattern = CachePattern.Format($"user_{7}_posts:*");
    var results = new List<Result>();

    await redis.FlushAsync();
    await FillAsync(db, Enumerable.Range(0, total - matching).Select(i => CacheKey.Format($"user_{i % 50_000 + 100}_posts:{i}")));
    Console.WriteLine($"   filled {total - matching:N0} other keys");

    async Task Measure(string name, Func<Task> prepare, Func<Task<long>> act, long expected, long internalKeys = 0)
    {
        var times = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            await prepare();
            long started = Stopwatch.GetTimestamp();
            long deleted = await act();
            double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (deleted != expected)
            {
                throw new InvalidOperationException($"{name}: deleted {deleted}, expected {expected}");
            }

            times.Add(ms);
        }

        long size = 0;
        foreach (IServer server in connection.GetServers().Where(s => !s.IsReplica))
        {
            size += await server.DatabaseSizeAsync();
        }

        if (size != total - matching + internalKeys && expected == matching)
        {
            throw new InvalidOperationException($"{name}: {size} keys left, expected {total - matching + internalKeys}");
        }

        times.Sort();
        var result = new Result(deployment, name, times[times.Count / 2], times[0], times[^1]);
        results.Add(result);
        Console.WriteLine($"   {name,-34} median {result.MedianMs,9:F1} ms  (min {result.MinMs:F1}, max {result.MaxMs:F1})");
    }

    Task Refill() => FillAsync(db, matchingKeys);

    // Clear-all among other data: the cache's entries are stored through the store (a script that files each key in
    // its slot's index); the other keys were written with plain SETs and must stay.
    byte[] entryValue = "{\"id\":1,\"title\":\"cached\"}"u8.ToArray();
    async Task StoreOwn()
    {
        foreach (string[] chunk in matchingKeys.Chunk(20_000))
        {
            await Task.WhenAll(chunk.Select(k => store.SetAsync(k, entryValue, TimeSpan.FromHours(1)).AsTask()));
        }
    }

    await StoreOwn();
    long indexes = 0;
    foreach (IServer server in connection.GetServers().Where(s => !s.IsReplica))
    {
        await foreach (RedisKey _ in server.KeysAsync(db.Database, "caching:keys:*", pageSize: 10_000))
        {
            indexes++;
        }
    }

    await Measure("clear all: ours", StoreOwn, async () => await store.DeleteAllAsync(), matching, internalKeys: indexes);
    await Measure($"store {matching:N0}: plain SET", () => Task.CompletedTask, async () => { await FillAsync(db, matchingKeys); return 0; }, 0);
    await Measure($"store {matching:N0}: store (SET + index)", () => Task.CompletedTask, async () => { await StoreOwn(); return 0; }, 0);
    if (clearOnly)
    {
        await redis.FlushAsync();
        await connection.DisposeAsync();
        return results;
    }

    // The indexes stay (their filings expire with their entries): removed here so the key counts below hold.
    await store.DeleteAllAsync();
    foreach (IServer server in connection.GetServers().Where(s => !s.IsReplica))
    {
        await foreach (RedisKey index in server.KeysAsync(db.Database, "caching:keys:*", pageSize: 10_000))
        {
            await db.KeyDeleteAsync(index);
        }
    }

    await Measure("pattern: ours", Refill, async () => (await store.DeleteByPatternAsync(pattern)).Deleted, matching);
    await Measure("pattern: model loop (COUNT 100)", Refill, () => ModelLoopAsync(connection, db, pattern), matching);
    await Measure("pattern: floor", Refill, () => FloorAsync(connection, db, pattern), matching);

    async Task FileUnderTag()
    {
        await FillAsync(db, matchingKeys);
        foreach (string[] chunk in matchingKeys.Chunk(5000))
        {
            await Task.WhenAll(chunk.Select(k => store.AddToTagsAsync(k, ["bench"], TimeSpan.FromHours(1)).AsTask()));
        }
    }

    // The tag's index stays (its filings expire with their entries): one internal key left.
    await Measure("tag: ours", FileUnderTag, async () => await store.InvalidateTagAsync("bench"), matching, internalKeys: 1);

    foreach (int entries in new[] { 1_000, 1_000_000 })
    {
        // Entries of namespace user:42 (their number is what must not matter), then many O(1) bumps.
        await redis.FlushAsync();
        var space = new CacheEntryOptions { Namespace = "user:42", Expiration = TimeSpan.FromHours(1) };
        await engine.SetAsync("ns_seed:0", "{}"u8.ToArray(), space);
        string version = (await store.GetNamespaceVersionAsync("user:42"))!;
        byte[] wrapped = (await store.GetAsync("ns_seed:0"))!;
        await FillAsync(db, Enumerable.Range(1, entries - 1).Select(i => $"ns_entry:{i}"), wrapped);
        const int bumps = 1000;
        await Measure($"namespace: {entries:N0} entries (x{bumps})", () => Task.CompletedTask, async () =>
        {
            for (int i = 0; i < bumps; i++)
            {
                await engine.InvalidateNamespaceAsync("user:42");
            }

            return 0;
        }, 0);
        _ = version;
    }

    await redis.FlushAsync();
    await connection.DisposeAsync();
    return results;
}

// What the model decorator does: per primary (it only knows one; on a cluster it must at least visit each),
// SCAN cursor MATCH pattern COUNT 100, then DEL the batch, sequentially, until the cursor is 0.
static async Task<long> ModelLoopAsync(ConnectionMultiplexer connection, IDatabase db, string pattern)
{
    long deleted = 0;
    foreach (IServer server in connection.GetServers().Where(s => !s.IsReplica))
    {
        long cursor = 0;
        do
        {
            RedisResult reply = await server.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", 100);
            var parts = (RedisResult[])reply!;
            cursor = long.Parse((string)parts[0]!);
            var keys = ((RedisKey[])parts[1]!);
            if (keys.Length > 0)
            {
                // DEL of one batch; on a cluster the batch must be split by slot or it fails with CROSSSLOT.
                foreach (IGrouping<int, RedisKey> slot in keys.GroupBy(connection.HashSlot))
                {
                    deleted += await db.ExecuteAsync("DEL", slot.Cast<object>().ToArray()) is { } r ? (long)r : 0;
                }
            }
        }
        while (cursor != 0);
    }

    return deleted;
}

// The floor: one SCAN pass per primary with a large COUNT, every match UNLINKed by slot, all pipelined, awaited once.
static async Task<long> FloorAsync(ConnectionMultiplexer connection, IDatabase db, string pattern)
{
    var pending = new List<Task<long>>();
    await Task.WhenAll(connection.GetServers().Where(s => !s.IsReplica).Select(async server =>
    {
        var mine = new List<Task<long>>();
        await foreach (RedisKey key in server.KeysAsync(db.Database, pattern, pageSize: 10_000))
        {
            mine.Add(db.KeyDeleteAsync([key]));
        }

        lock (pending)
        {
            pending.AddRange(mine);
        }
    }));
    return (await Task.WhenAll(pending)).Sum();
}

static async Task FillAsync(IDatabase db, IEnumerable<string> keys, byte[]? value = null)
{
    value ??= "{\"id\":1,\"title\":\"cached\"}"u8.ToArray();
    foreach (string[] chunk in keys.Chunk(20_000))
    {
        await Task.WhenAll(chunk.Select(k => db.StringSetAsync(k, value, TimeSpan.FromHours(1))));
    }
}

int Argument(string name, int fallback) => int.TryParse(ArgumentText(name, null), out int value) ? value : fallback;

string? ArgumentText(string name, string? fallback)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

internal sealed record Result(string Deployment, string Case, double MedianMs, double MinMs, double MaxMs);
