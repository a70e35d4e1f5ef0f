using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Caching;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

// Hot keys expiring under load (issue 14): three engines (three "instances", each with its own connection) on one
// redis-server started here on loopback, 100 hot keys stored at the same moment so that they expire in the same
// second, a handler that takes --handler-ms, and an open-loop load of --rate requests per second reading random hot
// keys through a random instance. Three modes: leases and single flight only (every reader of an expired key waits for its one reload),
// stale-while-revalidate (one reader reloads, the others are answered at once), and probabilistic early expiration
// (XFetch, Vattani et al., VLDB 2015: a reader recomputes early with probability rising as expiry nears). Reports
// p50/p99/max latency in the steady seconds before the expiry and in the second the keys expire, and handler runs
// per key per expiry across the three instances. Then the Redis memory one entry costs with and without a window.
//   dotnet run -c Release --project benchmarks/Caching.Benchmarks.HotKeys -- [--keys 100] [--rate 10000] [--ttl 5] [--handler-ms 50] [--runs 3] [--out docs/benchmarks]
int keys = Argument("--keys", 100);
int rate = Argument("--rate", 10_000);
int ttlSeconds = Argument("--ttl", 5);
int handlerMs = Argument("--handler-ms", 50);
int runs = Argument("--runs", 3);
string output = ArgumentText("--out") ?? Path.Combine("docs", "benchmarks");
Directory.CreateDirectory(output);

var results = new List<RunResult>();
MemoryResult[] memory;
await using (RedisServer redis = await RedisServer.StartAsync())
{
    foreach (Mode mode in new[] { Mode.SingleFlight, Mode.StaleWhileRevalidate, Mode.XFetch })
    {
        for (int run = 1; run <= runs; run++)
        {
            RunResult result = await RunAsync(redis, mode, run, keys, rate, TimeSpan.FromSeconds(ttlSeconds), handlerMs);
            Console.WriteLine(result.Line());
            results.Add(result);
        }
    }

    memory = await MeasureMemoryAsync(redis);
    foreach (MemoryResult m in memory)
    {
        Console.WriteLine($"memory: {m.Body,6} B body  plain {m.PlainBytes} B  with a window {m.TimedBytes} B  (+{m.TimedBytes - m.PlainBytes} B)");
    }
}

string json = Path.Combine(output, "hotkeys.json");
await File.WriteAllTextAsync(json, JsonSerializer.Serialize(
    new { keys, rate, ttlSeconds, handlerMs, runs, machine = Environment.ProcessorCount + " cores", results, memory },
    new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
Console.WriteLine($"wrote {json}");
return 0;

static async Task<RunResult> RunAsync(RedisServer redis, Mode mode, int run, int keyCount, int rate, TimeSpan ttl, int handlerMs)
{
    await redis.FlushAsync();
    var instances = new List<(ServiceProvider Services, ConnectionMultiplexer Connection, ICache Cache)>();
    for (int i = 0; i < 3; i++)
    {
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(redis.ClientConfiguration());
        var services = new ServiceCollection();
        services.AddSingleton<IConnectionMultiplexer>(connection);
        services.AddAttributeCaching(o =>
        {
            o.UseRedis();
            o.ExpirationJitter = 0; // every key expires in the same second: the worst case this measures
        });
        ServiceProvider provider = services.BuildServiceProvider();
        instances.Add((provider, connection, provider.GetRequiredService<ICache>()));
    }

    var entry = new CacheEntryOptions
    {
        Expiration = ttl,
        KeyPrefix = "hot",
        StaleWhileRevalidate = mode == Mode.StaleWhileRevalidate ? TimeSpan.FromSeconds(60) : null,
    };
    string[] keys = Enumerable.Range(0, keyCount).Select(i => "hot:" + i).ToArray();
    long handlerRuns = 0;

    // The "database query": takes handlerMs, returns a value that carries its own expiry and cost (XFetch needs
    // both; every mode stores the same value so that they move the same bytes).
    async ValueTask<string> Load(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref handlerRuns);
        await Task.Delay(handlerMs, cancellationToken);
        long expires = DateTimeOffset.UtcNow.Add(ttl).ToUnixTimeMilliseconds();
        return string.Create(CultureInfo.InvariantCulture, $"{expires};{handlerMs};{new string('x', 200)}");
    }

    await Task.WhenAll(keys.Select(k => instances[0].Cache.GetOrCreateAsync(k, Load, entry).AsTask()));
    long warmed = Stopwatch.GetTimestamp();
    Interlocked.Exchange(ref handlerRuns, 0);

    double expirySecond = ttl.TotalSeconds; // seconds after warm-up at which every key expires
    TimeSpan duration = ttl + TimeSpan.FromSeconds(2);

    // Open loop: requests start on a fixed schedule (rate per second) whether or not earlier ones have finished, and
    // each one's latency counts from its scheduled start, so that requests held up by an expiry are all measured (a
    // closed loop of N workers would let at most N of them wait: coordinated omission).
    int total = (int)(rate * duration.TotalSeconds);
    var starts = new double[total];
    var millis = new double[total];
    var inFlight = new List<Task>(total);
    var random = new Random(run);
    long ticksPerRequest = Stopwatch.Frequency / rate;
    for (int i = 0; i < total; i++)
    {
        long scheduled = warmed + i * ticksPerRequest;
        while (Stopwatch.GetTimestamp() < scheduled)
        {
            await Task.Delay(1);
        }

        string key = keys[random.Next(keys.Length)];
        ICache cache = instances[random.Next(instances.Count)].Cache;
        bool early = random.NextDouble() is var u && mode == Mode.XFetch;
        int slot = i;
        inFlight.Add(Task.Run(async () =>
        {
            string value = await cache.GetOrCreateAsync(key, Load, entry);
            if (early && ShouldRecomputeEarly(value, u))
            {
                await cache.SetAsync(key, await Load(CancellationToken.None), entry);
            }

            starts[slot] = Stopwatch.GetElapsedTime(warmed, scheduled).TotalSeconds;
            millis[slot] = Stopwatch.GetElapsedTime(scheduled).TotalMilliseconds;
        }));
    }

    await Task.WhenAll(inFlight);
    foreach (var instance in instances)
    {
        await instance.Services.DisposeAsync();
        await instance.Connection.DisposeAsync();
    }

    var all = starts.Zip(millis, (start, ms) => (Start: start, Millis: ms)).ToList();
    Stats steady = Stats.Of(all.Where(s => s.Start >= 1 && s.Start < expirySecond - 0.5).Select(s => s.Millis));
    Stats expiry = Stats.Of(all.Where(s => s.Start >= expirySecond && s.Start < expirySecond + 1).Select(s => s.Millis));
    return new RunResult(mode.ToString(), run, steady, expiry, handlerRuns / (double)keyCount, all.Count / duration.TotalSeconds);
}

// XFetch: recompute when now - delta * beta * ln(U) >= expiry, U uniform in (0, 1], beta = 1.
static bool ShouldRecomputeEarly(string value, double uniform)
{
    string[] parts = value.Split(';', 3);
    long expires = long.Parse(parts[0], CultureInfo.InvariantCulture);
    double delta = double.Parse(parts[1], CultureInfo.InvariantCulture);
    double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    return now - delta * Math.Log(1 - uniform) >= expires;
}

// MEMORY USAGE of one entry stored through the cache, without a window and with one, for a few body sizes.
static async Task<MemoryResult[]> MeasureMemoryAsync(RedisServer redis)
{
    await redis.FlushAsync();
    ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(redis.ClientConfiguration());
    var services = new ServiceCollection();
    services.AddSingleton<IConnectionMultiplexer>(connection);
    services.AddAttributeCaching(o => o.UseRedis());
    await using ServiceProvider provider = services.BuildServiceProvider();
    ICache cache = provider.GetRequiredService<ICache>();
    IDatabase db = redis.Connection.GetDatabase();
    var results = new List<MemoryResult>();
    foreach (int body in new[] { 100, 1_000, 10_000 })
    {
        string value = new('x', body);
        await cache.SetAsync("mem:plain:" + body, value, new CacheEntryOptions { Expiration = TimeSpan.FromMinutes(10) });
        await cache.SetAsync("mem:timed:" + body, value, new CacheEntryOptions { Expiration = TimeSpan.FromMinutes(10), StaleIfError = TimeSpan.FromMinutes(10) });
        results.Add(new MemoryResult(body, await UsageAsync("mem:plain:" + body), await UsageAsync("mem:timed:" + body)));
    }

    await connection.DisposeAsync();
    return results.ToArray();

    async Task<long> UsageAsync(string key)
    {
        string stored = (await redis.AllKeysAsync()).Single(k => k.EndsWith(key, StringComparison.Ordinal));
        return (long)await db.ExecuteAsync("MEMORY", "USAGE", stored, "SAMPLES", "0");
    }
}

static int Argument(string name, int fallback)
{
    string? text = ArgumentText(name);
    return text is null ? fallback : int.Parse(text, CultureInfo.InvariantCulture);
}

static string? ArgumentText(string name)
{
    string[] args = Environment.GetCommandLineArgs();
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal enum Mode
{
    SingleFlight,
    StaleWhileRevalidate,
    XFetch,
}

internal sealed record Stats(int Count, double P50, double P99, double Max)
{
    public static Stats Of(IEnumerable<double> millis)
    {
        double[] sorted = millis.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Stats(0, 0, 0, 0);
        }

        return new Stats(sorted.Length, At(0.50), At(0.99), sorted[^1]);

        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"p50 {P50,6:F2} p99 {P99,7:F2} max {Max,7:F1} ms (n={Count})");
}

internal sealed record RunResult(string Mode, int Run, Stats Steady, Stats Expiry, double HandlerRunsPerKey, double RequestsPerSecond)
{
    public double P99Ratio => Steady.P99 == 0 ? 0 : Expiry.P99 / Steady.P99;

    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"{Mode,-20} run {Run}: steady {Steady} | expiry second {Expiry} | p99 x{P99Ratio:F2} | handler runs per key {HandlerRunsPerKey:F2} | {RequestsPerSecond:F0} req/s");
}

internal sealed record MemoryResult(int Body, long PlainBytes, long TimedBytes);
