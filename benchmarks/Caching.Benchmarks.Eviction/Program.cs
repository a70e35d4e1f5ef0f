using System.Diagnostics;
using System.Globalization;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Scheduler;
using Caching;
using Caching.Stores;
using Caching.Stores.Eviction;
using Microsoft.Extensions.Options;

// Bounded in-process store (issue 15). Two modes:
//   policy (default): a seeded Zipf(--skew) trace of --requests requests over --keys keys, through caches holding
//     --capacity entries: LRU, BitFaster.Caching's ConcurrentLfu, Belady's optimum (offline, with bypass: the physical
//     limit), and the shipped policy, run as the real InMemoryCacheStore with a byte limit of --capacity entries of one
//     size (plus its sampling variants). Hit ratio and throughput (requests per second, one thread; the store and
//     ConcurrentLfu also on two threads).
//   --memory: --distinct distinct keys with --body-byte bodies through an InMemoryCacheStore limited to --limit-mb MB;
//     managed heap after a full collection and working set, before and after, and the limit checked all along.
//   dotnet run -c Release --project benchmarks/Caching.Benchmarks.Eviction -- [--keys 1000000] [--requests 10000000] [--capacity 10000] [--skew 0.9] [--seed 42]
//   dotnet run -c Release --project benchmarks/Caching.Benchmarks.Eviction -- --memory [--distinct 5000000] [--limit-mb 64] [--body-bytes 100] [--sample 5] [--reads 1]
if (args.Contains("--memory"))
{
    MemoryRun.Run(Argument("--distinct", 5_000_000), Argument("--limit-mb", 64), Argument("--body-bytes", 100), Argument("--sample", EvictionPolicy.SampleSize), Argument("--reads", 1));
    return;
}

int keyCount = Argument("--keys", 1_000_000);
int requests = Argument("--requests", 10_000_000);
int capacity = Argument("--capacity", 10_000);
double skew = double.Parse(ArgumentText("--skew") ?? "0.9", CultureInfo.InvariantCulture);
int seed = Argument("--seed", 42);

Console.WriteLine($"Zipf({skew}) over {keyCount:N0} keys, {requests:N0} requests, seed {seed}, capacity {capacity:N0} entries ({100.0 * capacity / keyCount:0.##}% of the keys); {Environment.ProcessorCount} cores");
var watch = Stopwatch.StartNew();
int[] trace = Zipf.Trace(keyCount, requests, skew, seed);
Console.WriteLine($"trace generated in {watch.Elapsed.TotalSeconds:0.0} s; distinct keys requested: {trace.Distinct().Count():N0}");

var results = new List<(string Name, double HitRatio, double OpsPerSecond)>();
void Report(string name, long hits, TimeSpan elapsed)
{
    double ratio = (double)hits / trace.Length;
    double ops = trace.Length / elapsed.TotalSeconds;
    results.Add((name, ratio, ops));
    Console.WriteLine($"{name,-52} hit ratio {ratio * 100,6:0.00}%   {ops / 1e6,6:0.00} M requests/s");
}

Report("LRU (dictionary + linked list)", Measure(() => Simulations.Lru(trace, capacity), out TimeSpan lru), lru);
Report("BitFaster ConcurrentLfu (default scheduler)", Measure(() => Simulations.ConcurrentLfu(trace, new ConcurrentLfu<int, int>(capacity)), out TimeSpan lfu), lfu);
Report("BitFaster ConcurrentLfu (foreground maintenance)", Measure(() => Simulations.ConcurrentLfu(trace, new ConcurrentLfu<int, int>(1, capacity, new ForegroundScheduler(), EqualityComparer<int>.Default)), out TimeSpan lfuForeground), lfuForeground);
Report("Belady's optimum (offline, bypass allowed)", Measure(() => Simulations.Belady(trace, keyCount, capacity), out TimeSpan belady), belady);
string[] keys = Enumerable.Range(0, keyCount).Select(static i => "k" + i.ToString("D7", CultureInfo.InvariantCulture)).ToArray();
Report("BitFaster ConcurrentLfu<string, byte[]> (store's work)", Measure(() => Simulations.ConcurrentLfuLikeStore(trace, keys, new ConcurrentLfu<string, byte[]>(capacity)), out TimeSpan lfuStrings), lfuStrings);
foreach (int sampleSize in new[] { 4, EvictionPolicy.SampleSize, 8, 16, 32 })
{
    string name = sampleSize == EvictionPolicy.SampleSize
        ? $"Shipped: InMemoryCacheStore, TinyLFU + sampled ({sampleSize})"
        : $"  variant: InMemoryCacheStore, sample of {sampleSize}";
    Report(name, Measure(() => Simulations.Store(trace, keys, capacity, sampleSize, threads: 1), out TimeSpan store), store);
}

Report("Shipped store, 2 threads (trace split)", Measure(() => Simulations.Store(trace, keys, capacity, EvictionPolicy.SampleSize, threads: 2), out TimeSpan store2), store2);
Report("BitFaster ConcurrentLfu, 2 threads (trace split)", Measure(() => Simulations.ConcurrentLfu(trace, new ConcurrentLfu<int, int>(capacity), threads: 2), out TimeSpan lfu2), lfu2);

static long Measure(Func<long> run, out TimeSpan elapsed)
{
    GC.Collect();
    var watch = Stopwatch.StartNew();
    long hits = run();
    elapsed = watch.Elapsed;
    return hits;
}

int Argument(string name, int fallback) => ArgumentText(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? ArgumentText(string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

/// <summary>A seeded Zipf trace: key of rank r (0-based) drawn with probability proportional to 1 / (r + 1)^s.</summary>
internal static class Zipf
{
    public static int[] Trace(int keys, int requests, double skew, int seed)
    {
        double[] cumulative = new double[keys];
        double sum = 0;
        for (int rank = 0; rank < keys; rank++)
        {
            sum += 1.0 / Math.Pow(rank + 1, skew);
            cumulative[rank] = sum;
        }

        var random = new Random(seed);
        int[] trace = new int[requests];
        for (int i = 0; i < requests; i++)
        {
            int index = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            trace[i] = index >= 0 ? index : Math.Min(~index, keys - 1);
        }

        return trace;
    }
}

/// <summary>Each simulation returns its hits; a miss inserts the key (or, for the policies that may, refuses it).</summary>
internal static class Simulations
{
    public static long Lru(int[] trace, int capacity)
    {
        var list = new LinkedList<int>();
        var map = new Dictionary<int, LinkedListNode<int>>(capacity);
        long hits = 0;
        foreach (int key in trace)
        {
            if (map.TryGetValue(key, out LinkedListNode<int>? node))
            {
                hits++;
                list.Remove(node);
                list.AddFirst(node);
                continue;
            }

            if (map.Count == capacity)
            {
                map.Remove(list.Last!.Value);
                list.RemoveLast();
            }

            map[key] = list.AddFirst(key);
        }

        return hits;
    }

    public static long ConcurrentLfu(int[] trace, ConcurrentLfu<int, int> cache, int threads = 1)
    {
        long total = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
        {
            long hits = 0;
            for (int i = part; i < trace.Length; i += threads)
            {
                int key = trace[i];
                if (cache.TryGet(key, out _))
                {
                    hits++;
                }
                else
                {
                    cache.AddOrUpdate(key, key);
                }
            }

            Interlocked.Add(ref total, hits);
        });
        return total;
    }

    // ConcurrentLfu doing what the store does on a miss and a hit: string keys, a copy of the body stored, an expiry
    // time read; a fairer cost comparison than int keys.
    public static long ConcurrentLfuLikeStore(int[] trace, string[] keys, ConcurrentLfu<string, byte[]> cache)
    {
        byte[] body = new byte[16];
        long hits = 0;
        foreach (int index in trace)
        {
            string key = keys[index];
            _ = TimeProvider.System.GetUtcNow();
            if (cache.TryGet(key, out _))
            {
                hits++;
            }
            else
            {
                cache.AddOrUpdate(key, body.AsSpan().ToArray());
            }
        }

        return hits;
    }

    // Belady's MIN with bypass: on a miss with the cache full, the entry (or the requested key itself) whose next
    // use lies farthest ahead is left out. The next-use positions come from one backward pass; the cache is a
    // max-priority queue on next use, with lazy deletion of entries whose key was used again since.
    public static long Belady(int[] trace, int keys, int capacity)
    {
        int[] nextUse = new int[trace.Length];
        int[] upcoming = new int[keys];
        Array.Fill(upcoming, int.MaxValue);
        for (int i = trace.Length - 1; i >= 0; i--)
        {
            nextUse[i] = upcoming[trace[i]];
            upcoming[trace[i]] = i;
        }

        int[] cachedNextUse = new int[keys];
        Array.Fill(cachedNextUse, -1); // -1: not cached
        var queue = new PriorityQueue<int, int>(capacity + 1, Comparer<int>.Create(static (a, b) => b.CompareTo(a)));
        int count = 0;
        long hits = 0;
        for (int i = 0; i < trace.Length; i++)
        {
            int key = trace[i];
            int next = nextUse[i];
            if (cachedNextUse[key] >= 0)
            {
                hits++;
                cachedNextUse[key] = next;
                queue.Enqueue(key, next);
                continue;
            }

            if (next == int.MaxValue)
            {
                continue; // never used again: not worth a place
            }

            if (count == capacity)
            {
                // Drop stale queue items (keys used again since, or evicted) until the top is live.
                while (queue.TryPeek(out int top, out int topNext) && cachedNextUse[top] != topNext)
                {
                    queue.Dequeue();
                }

                queue.TryPeek(out int victim, out int victimNext);
                if (victimNext <= next)
                {
                    continue; // the requested key is needed later than everything cached: bypass
                }

                queue.Dequeue();
                cachedNextUse[victim] = -1;
                count--;
            }

            cachedNextUse[key] = next;
            queue.Enqueue(key, next);
            count++;

            if (queue.Count > 8 * capacity)
            {
                Compact(queue, cachedNextUse);
            }
        }

        return hits;
    }

    // The shipped store, driven as the engine drives it: a read, and on a miss a write of a 16-byte body with a long
    // time to live. The byte limit holds exactly `capacity` entries of this size.
    public static long Store(int[] trace, string[] keys, int capacity, int sampleSize, int threads)
    {
        byte[] body = new byte[16];
        long limit = capacity * EntryWeights.Entry(keys[0], body.Length);
        var options = Options.Create(new CachingOptions { InMemorySizeLimit = limit });
        using var store = new InMemoryCacheStore(options, TimeProvider.System, sampleSize);
        TimeSpan ttl = TimeSpan.FromDays(1);
        long total = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
        {
            long hits = 0;
            for (int i = part; i < trace.Length; i += threads)
            {
                string key = keys[trace[i]];
                if (store.GetAsync(key).Result is not null)
                {
                    hits++;
                }
                else
                {
                    store.SetAsync(key, body, ttl).GetAwaiter().GetResult();
                }
            }

            Interlocked.Add(ref total, hits);
        });
        if (store.SizeInBytes > limit)
        {
            throw new InvalidOperationException($"store over its limit: {store.SizeInBytes} > {limit}");
        }

        return total;
    }

    private static void Compact(PriorityQueue<int, int> queue, int[] cachedNextUse)
    {
        var live = new List<(int, int)>();
        while (queue.TryDequeue(out int key, out int next))
        {
            if (cachedNextUse[key] == next)
            {
                live.Add((key, next));
            }
        }

        queue.EnqueueRange(live);
    }
}

/// <summary>Distinct keys through a size-limited store: does the process stay within the limit plus an overhead?</summary>
internal static class MemoryRun
{
    // reads: how many times each key is read (missing) before it is written. Once: a new key is never more popular
    // than what is held, so once full the store refuses every newcomer (TinyLFU's scan resistance). Twice: each
    // newcomer beats the entries read once, so entries are really evicted and replaced all along.
    public static void Run(int distinct, int limitMegabytes, int bodyBytes, int sampleSize, int reads)
    {
        long limit = limitMegabytes * 1024L * 1024L;
        byte[] body = new byte[bodyBytes];
        Random.Shared.NextBytes(body);
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetBefore = WorkingSet();
        Console.WriteLine($"{distinct:N0} distinct keys, {bodyBytes}-byte bodies, InMemorySizeLimit {limitMegabytes} MB ({limit:N0} bytes), eviction sample {sampleSize}, each key read {reads} time(s) before it is written; {Environment.ProcessorCount} cores");
        Console.WriteLine($"before: managed heap {Mb(heapBefore)}, working set {Mb(workingSetBefore)}");

        var options = Options.Create(new CachingOptions { InMemorySizeLimit = limit });
        var store = new InMemoryCacheStore(options, TimeProvider.System, sampleSize);
        TimeSpan ttl = TimeSpan.FromHours(1);
        long largestSize = 0;
        long largestHeap = 0;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < distinct; i++)
        {
            string key = "key:" + i.ToString("D8", CultureInfo.InvariantCulture);

            // Each key read before it is written, as a miss is: the read counts it for admission.
            bool found = false;
            for (int read = 0; read < reads; read++)
            {
                found |= store.GetAsync(key).Result is not null;
            }

            if (!found)
            {
                store.SetAsync(key, body, ttl).GetAwaiter().GetResult();
            }

            long size = store.SizeInBytes;
            largestSize = Math.Max(largestSize, size);
            if (size > limit)
            {
                throw new InvalidOperationException($"over the limit after {i + 1} keys: {size} > {limit}");
            }

            if ((i + 1) % 1_000_000 == 0)
            {
                long heap = GC.GetTotalMemory(forceFullCollection: true);
                largestHeap = Math.Max(largestHeap, heap);
                Console.WriteLine($"  after {i + 1,9:N0} keys: {store.EntryCount,9:N0} entries, accounted {Mb(size)}, managed heap {Mb(heap)} (+{Mb(heap - heapBefore)}), working set {Mb(WorkingSet())}");
            }
        }

        double seconds = watch.Elapsed.TotalSeconds;
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetAfter = WorkingSet();
        long grown = heapAfter - heapBefore;
        int entries = store.EntryCount;
        Console.WriteLine($"after: managed heap {Mb(heapAfter)}, working set {Mb(workingSetAfter)}; {distinct / seconds / 1e6:0.00} M keys/s");
        Console.WriteLine($"entries held {entries:N0}; accounted {store.SizeInBytes:N0} bytes (largest seen {largestSize:N0}, limit {limit:N0}); evicted {store.Evictions:N0}, refused {store.Refusals:N0}");
        Console.WriteLine($"managed heap grown by {Mb(grown)}: {Mb(grown - limit)} above the limit ({100.0 * (grown - limit) / limit:0.0}%); largest heap at a checkpoint {Mb(largestHeap)}");
        Console.WriteLine($"per entry: accounted {(double)store.SizeInBytes / entries:0.0} bytes, heap {(double)grown / entries:0.0} bytes; frequency sketch {Mb(store.Policy.SketchBytes)}");
        Console.WriteLine($"working set grown by {Mb(workingSetAfter - workingSetBefore)}; GC committed {Mb(GC.GetGCMemoryInfo().TotalCommittedBytes)}");

        // The working set above holds what the collector keeps committed for allocations to come (its gen0 budget,
        // regions freed but not yet returned): an aggressive collection returns it, leaving what the cache needs.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long heapAggressive = GC.GetTotalMemory(forceFullCollection: false);
        Console.WriteLine($"after an aggressive collection: managed heap {Mb(heapAggressive)}, working set {Mb(WorkingSet())} (+{Mb(WorkingSet() - workingSetBefore)}), GC committed {Mb(GC.GetGCMemoryInfo().TotalCommittedBytes)}");
        GC.KeepAlive(store);
    }

    private static long WorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static string Mb(long bytes) => $"{bytes / 1024.0 / 1024.0:0.0} MB";
}
