using System.Collections.Concurrent;
using Caching.IntegrationTests.Infrastructure;
using Caching.Runtime.Tests.Infrastructure;

namespace Caching.IntegrationTests.Differential;

/// <summary>
/// Differential tests: the uncached handler is the oracle. Every shape of <see cref="DiffCorpus"/> is mapped cached
/// under /c and uncached under /u (and /v, a second oracle the harness checks itself with); whatever a client
/// sends, /c must answer what /u answers (status, content type, body bytes, the handler's headers), and a response
/// that is not shareable (non-200, Set-Cookie, no-store, private, or to a request with credentials) must never be
/// given to a different request: its handler must run again. A fresh app per test; the Redis deployments are
/// shared by a class and flushed before each test.
/// </summary>
public abstract class DifferentialTests : IAsyncLifetime
{
    private const int Concurrency = 10;

    private DiffHost _host = null!;

    protected abstract StoreKind Store { get; }

    protected virtual IRedisDeployment? SharedRedis => null;

    private HttpClient Client => _host.Client;

    private DiffDb Db => _host.Db;

    public async Task InitializeAsync() => _host = await DiffHost.StartAsync(Store, SharedRedis);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    // (a) Each request of the shape twice, miss then hit, each compared with the uncached twin's answer at that point.
    [Theory]
    [MemberData(nameof(DiffCorpus.ReadNames), MemberType = typeof(DiffCorpus))]
    public async Task Sequential_miss_then_hit_matches_the_uncached_handler(string shape)
    {
        List<string> failures = await SequentialAsync(DiffCorpus.Read(shape), cached: "c", oracle: "u");
        AssertNone(failures, $"shape '{shape}', sequential miss then hit");
    }

    // (b) Ten concurrent requests to a cold key, all released at once: the ten answers must be the uncached twin's ten.
    [Theory]
    [MemberData(nameof(DiffCorpus.ReadNames), MemberType = typeof(DiffCorpus))]
    public async Task Concurrent_requests_to_a_cold_key_match_the_uncached_handler(string shape)
    {
        List<string> failures = await ConcurrentAsync(DiffCorpus.Read(shape), cached: "c", oracle: "u");
        AssertNone(failures, $"shape '{shape}', {Concurrency} concurrent requests on a cold key");
    }

    // A write (every kind: 2xx, 403, 500, 400, a redirect, exceptions), then every read of the data it touched.
    [Theory]
    [MemberData(nameof(DiffCorpus.WriteNames), MemberType = typeof(DiffCorpus))]
    public async Task A_read_after_a_write_matches_the_uncached_handler(string write)
    {
        const int id = 4;
        var failures = new List<string>();
        foreach (string reader in DiffCorpus.DataReaders)
        {
            failures.AddRange(await PairAsync($"before the write, {reader}", DiffCorpus.Get($"/{reader}/{id}"), "c", "u"));
        }

        DiffRequest request = DiffCorpus.Writes[write](id, "written");
        DiffResponse cachedWrite = await DiffResponse.SendAsync(Client, request, "c");
        DiffResponse oracleWrite = await DiffResponse.SendAsync(Client, request, "u");
        failures.AddRange(DiffResponse.Differences(oracleWrite, cachedWrite).Select(d => $"the write {request}: {d}"));
        foreach (string reader in DiffCorpus.DataReaders)
        {
            failures.AddRange(await PairAsync($"after the write {request} ({cachedWrite.Status}), {reader}", DiffCorpus.Get($"/{reader}/{id}"), "c", "u"));
        }

        AssertNone(failures, $"write '{write}' then reads");
    }

    // (c) Random concurrent sequences: reads (compared with the uncached twin read at the same time), writes that change
    // the data, pure invalidations, failing writes, failing and slow reads. A read is compared when no write of its
    // id was in flight or started while it ran: then both twins read the data of the last write that returned.
    [Theory]
    [InlineData(11, false)]
    [InlineData(12, false)]
    [InlineData(13, false)]
    [InlineData(21, true)]
    [InlineData(22, true)]
    public async Task Random_interleavings_of_reads_and_writes_match_the_uncached_handler(int seed, bool changingWritesThatAreNot2xx)
    {
        const int workers = 6;
        const int operations = 30;
        int[] ids = [1, 2, 3];
        string[] writes = changingWritesThatAreNot2xx
            ? ["put", "put", "create", "delete", "touch", "forbid", "problem", "validation", "throw", "prg", "throwafter"]
            : ["put", "put", "put", "create", "delete", "touch", "forbid", "problem", "validation", "throw"];
        int[] started = new int[ids.Length + 1];
        int[] inFlight = new int[ids.Length + 1];
        var failures = new ConcurrentQueue<string>();
        var log = new ConcurrentQueue<string>();
        int compared = 0;
        int reads = 0;

        async Task WorkerAsync(int worker)
        {
            var random = new Random((seed * 1000) + worker);
            for (int op = 0; op < operations; op++)
            {
                int id = ids[random.Next(ids.Length)];
                if (random.NextDouble() < 0.25)
                {
                    string kind = writes[random.Next(writes.Length)];
                    string name = (random.Next(5) == 0 ? "bad" : "n") + random.Next(1000);
                    Interlocked.Increment(ref started[id]);
                    Interlocked.Increment(ref inFlight[id]);
                    try
                    {
                        DiffResponse written = await DiffResponse.SendAsync(Client, DiffCorpus.Writes[kind](id, name), "c");
                        log.Enqueue($"w{worker}#{op} write {kind} id {id} name {name} -> {written.Status}");
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight[id]);
                    }

                    continue;
                }

                string shape = DiffCorpus.DataReaders[random.Next(DiffCorpus.DataReaders.Length)];
                DiffRequest read = DiffCorpus.Get($"/{shape}/{id}");
                Interlocked.Increment(ref reads);
                int writesBefore = Volatile.Read(ref started[id]);
                bool quiet = Volatile.Read(ref inFlight[id]) == 0;
                DiffResponse[] both = await Task.WhenAll(DiffResponse.SendAsync(Client, read, "u"), DiffResponse.SendAsync(Client, read, "c"));
                if (!quiet || Volatile.Read(ref started[id]) != writesBefore)
                {
                    continue;
                }

                Interlocked.Increment(ref compared);
                List<string> differences = DiffResponse.Differences(both[0], both[1]);
                log.Enqueue($"w{worker}#{op} read {read} -> {both[1].Status} {both[1].XCache}{(differences.Count > 0 ? " DIFFERS" : string.Empty)}");
                if (differences.Count > 0)
                {
                    failures.Enqueue($"worker {worker} op {op}: {read} (cached X-Cache {both[1].XCache}): {string.Join("; ", differences)}");
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(WorkerAsync));

        // Quiet now: every read of every id must agree.
        foreach (string shape in DiffCorpus.DataReaders)
        {
            foreach (int id in ids)
            {
                foreach (string failure in await PairAsync("after the run", DiffCorpus.Get($"/{shape}/{id}"), "c", "u"))
                {
                    failures.Enqueue(failure);
                }
            }
        }

        if (!failures.IsEmpty)
        {
            Assert.Fail($"[{Store}] random interleavings, seed {seed} (changing non-2xx writes: {changingWritesThatAreNot2xx}): {failures.Count} differences"
                + $" ({compared} of {reads} concurrent reads compared)\n  " + string.Join("\n  ", failures.Take(25))
                + "\nlast operations:\n  " + string.Join("\n  ", log.TakeLast(40)));
        }

        // Not vacuous: most reads ran with no write of their id around them.
        Assert.True(compared * 4 >= reads, $"only {compared} of {reads} reads could be compared (seed {seed})");
    }

    // (d) The app's own filters: a 200 the cache holds must not be given to a request the filter refuses.
    [Theory]
    [InlineData("/apikey/5")]
    [InlineData("/g/item/5")]
    public async Task An_api_key_filter_still_answers_401_without_the_key_after_a_cached_200(string suffix)
    {
        var failures = new List<string>();
        failures.AddRange(await PairAsync("with the key", DiffCorpus.Get(suffix, ("X-Api-Key", "secret")), "c", "u"));
        failures.AddRange(await PairAsync("with the key again", DiffCorpus.Get(suffix, ("X-Api-Key", "secret")), "c", "u"));
        failures.AddRange(await PairAsync("without the key", DiffCorpus.Get(suffix), "c", "u"));
        failures.AddRange(await PairAsync("with a wrong key", DiffCorpus.Get(suffix, ("X-Api-Key", "wrong")), "c", "u"));
        Assert.Equal(401, (await DiffResponse.SendAsync(Client, DiffCorpus.Get(suffix), "u")).Status);
        AssertNone(failures, $"filter-protected {suffix}");
    }

    // (d) A cookie is never replayed to another client: the second client's request runs the handler and gets its own.
    [Fact]
    public async Task A_cookie_setting_response_is_never_replayed_to_another_client()
    {
        (string? first, string firstXCache) = await CookieAsync("/c/cookie/5");
        (string? second, string secondXCache) = await CookieAsync("/c/cookie/5");

        Assert.NotNull(first);
        Assert.True(second is not null, $"[{Store}] the second client got no Set-Cookie (X-Cache {secondXCache}): the first client's response was replayed without it");
        Assert.NotEqual(first, second);
        Assert.True(Db.Calls("c", "cookie") == 2, $"[{Store}] the handler ran {Db.Calls("c", "cookie")} times for two clients (X-Cache {firstXCache}, {secondXCache}): a response that set a cookie was served from the cache to another client");
    }

    // (d) no-store, private and cookie responses: the handler runs for every request.
    [Theory]
    [InlineData("ccnostore")]
    [InlineData("ccprivate")]
    [InlineData("cookie")]
    [InlineData("throws")]
    public async Task A_response_that_must_not_be_shared_is_never_served_to_another_request(string shape)
    {
        int id = shape == "throws" ? 6 : 7;
        var xCache = new List<string?>();
        for (int i = 0; i < 3; i++)
        {
            xCache.Add((await DiffResponse.SendAsync(Client, DiffCorpus.Get($"/{shape}/{id}"), "c")).XCache);
        }

        Assert.True(Db.Calls("c", shape) == 3, $"[{Store}] '{shape}': the handler ran {Db.Calls("c", shape)} times for 3 requests (X-Cache {string.Join(",", xCache)})");
    }

    // (d) A response to a request with credentials is neither served from nor stored in the cache for another request.
    [Fact]
    public async Task A_response_to_a_request_with_credentials_is_never_served_to_another_request()
    {
        var failures = new List<string>();
        failures.AddRange(await PairAsync("alice", DiffCorpus.Get("/rec/6", ("Authorization", "Bearer alice")), "c", "u"));
        failures.AddRange(await PairAsync("bob", DiffCorpus.Get("/rec/6", ("Authorization", "Bearer bob")), "c", "u"));
        int afterCredentials = Db.Calls("c", "rec");
        failures.AddRange(await PairAsync("anonymous", DiffCorpus.Get("/rec/6"), "c", "u"));

        AssertNone(failures, "credentials");
        Assert.Equal(2, afterCredentials);
        Assert.True(Db.Calls("c", "rec") == 3, $"[{Store}] an anonymous request after two with credentials did not run the handler: a personal response was stored");
    }

    // The harness checks itself: two uncached twins agree on every shape, sequentially, concurrently and on writes.
    [Fact]
    public async Task Harness_self_check_two_uncached_twins_agree_on_every_shape()
    {
        var failures = new List<string>();
        foreach (DiffShape shape in DiffCorpus.Reads)
        {
            failures.AddRange(await SequentialAsync(shape, cached: "v", oracle: "u"));
            failures.AddRange(await ConcurrentAsync(shape, cached: "v", oracle: "u"));
        }

        int id = 10;
        foreach ((string kind, Func<int, string, DiffRequest> write) in DiffCorpus.Writes)
        {
            DiffRequest request = write(id++, "written");
            DiffResponse v = await DiffResponse.SendAsync(Client, request, "v");
            DiffResponse u = await DiffResponse.SendAsync(Client, request, "u");
            failures.AddRange(DiffResponse.Differences(u, v).Select(d => $"write {kind}: {d}"));
        }

        AssertNone(failures, "self check /v against /u");
    }

    // ...and can fail: different answers are reported, part by part.
    [Fact]
    public async Task Harness_reports_the_differences_it_sees()
    {
        async Task<List<string>> DiffAsync(string a, string b)
            => DiffResponse.Differences(await DiffResponse.SendAsync(Client, DiffCorpus.Get(a), "u"), await DiffResponse.SendAsync(Client, DiffCorpus.Get(b), "u"));

        Assert.Contains(await DiffAsync("/rec/1", "/rec/2"), d => d.StartsWith("body", StringComparison.Ordinal));
        Assert.Contains(await DiffAsync("/rec/1", "/rec/999"), d => d.StartsWith("body", StringComparison.Ordinal));
        Assert.Contains(await DiffAsync("/okornotfound/1", "/okornotfound/999"), d => d.StartsWith("status", StringComparison.Ordinal));
        Assert.Contains(await DiffAsync("/text/1", "/text/2"), d => d.StartsWith("content-type", StringComparison.Ordinal));
        Assert.Contains(await DiffAsync("/custom/1", "/custom/2"), d => d.StartsWith("header x-custom", StringComparison.Ordinal));
        Assert.Contains(await DiffAsync("/etag/1", "/rec/1"), d => d.StartsWith("header etag", StringComparison.Ordinal));
        Assert.Contains(await DiffAsync("/rec/1", "/cookie/1"), d => d.StartsWith("set-cookie", StringComparison.Ordinal));
        Assert.Empty(await DiffAsync("/cookie/1", "/cookie/1"));
        Assert.Empty(await DiffAsync("/rec/1", "/etag/1")); // an ETag the oracle lacks is allowed on the compared side
    }

    private async Task<List<string>> SequentialAsync(DiffShape shape, string cached, string oracle)
    {
        var failures = new List<string>();
        foreach (DiffRequest request in shape.Requests)
        {
            DiffResponse oracle1 = await DiffResponse.SendAsync(Client, request, oracle);
            DiffResponse cached1 = await DiffResponse.SendAsync(Client, request, cached);
            int oracleRuns = Db.Calls(oracle, shape.Name);
            DiffResponse oracle2 = await DiffResponse.SendAsync(Client, request, oracle);
            bool oracleRan = Db.Calls(oracle, shape.Name) > oracleRuns;
            int cachedRuns = Db.Calls(cached, shape.Name);
            DiffResponse cached2 = await DiffResponse.SendAsync(Client, request, cached);
            bool cachedRan = Db.Calls(cached, shape.Name) > cachedRuns;

            failures.AddRange(DiffResponse.Differences(oracle1, cached1).Select(d => $"{request} 1st (X-Cache {cached1.XCache}): {d}"));
            failures.AddRange(DiffResponse.Differences(oracle2, cached2).Select(d => $"{request} 2nd (X-Cache {cached2.XCache}): {d}"));
            if (oracleRan && !cachedRan && (!oracle1.IsShareable || request.HasAuthorization))
            {
                failures.Add($"{request} 2nd (X-Cache {cached2.XCache}): the handler did not run, so the 1st response ({Reason(oracle1, request)}) was given to another request");
            }
        }

        return failures;
    }

    private async Task<List<string>> ConcurrentAsync(DiffShape shape, string cached, string oracle)
    {
        var failures = new List<string>();
        foreach (DiffRequest request in shape.Requests)
        {
            int oracleRuns = Db.Calls(oracle, shape.Name);
            DiffResponse[] oracles = await BurstAsync(request, oracle);
            oracleRuns = Db.Calls(oracle, shape.Name) - oracleRuns;
            int cachedRuns = Db.Calls(cached, shape.Name);
            DiffResponse[] answers = await BurstAsync(request, cached);
            cachedRuns = Db.Calls(cached, shape.Name) - cachedRuns;

            bool validators = oracles.Any(o => o.Headers.ContainsKey("etag") || o.Headers.ContainsKey("last-modified"));
            string[] expected = oracles.Select(o => o.Canonical(validators)).Order(StringComparer.Ordinal).ToArray();
            string[] actual = answers.Select(a => a.Canonical(validators)).Order(StringComparer.Ordinal).ToArray();
            if (!expected.SequenceEqual(actual, StringComparer.Ordinal))
            {
                failures.Add($"{request} x{Concurrency}: cached answers {Tally(answers, validators, withXCache: true)}; uncached answers {Tally(oracles, validators, withXCache: false)}");
            }

            if (cachedRuns < oracleRuns && (oracles.All(o => !o.IsShareable) || request.HasAuthorization))
            {
                failures.Add($"{request} x{Concurrency}: the handler ran {cachedRuns} times (uncached {oracleRuns}), so a response that must not be shared ({Reason(oracles[0], request)}) was given to other requests");
            }
        }

        return failures;
    }

    // Concurrency requests, held at the app's arrival gate until all have arrived, then released together.
    private async Task<DiffResponse[]> BurstAsync(DiffRequest request, string side)
    {
        using HttpRequestMessage probe = request.Build(side);
        string gate = probe.RequestUri!.OriginalString;
        Db.Arm(gate, Concurrency);
        try
        {
            return await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => DiffResponse.SendAsync(Client, request, side)));
        }
        finally
        {
            Db.Disarm(gate);
        }
    }

    private async Task<List<string>> PairAsync(string step, DiffRequest request, string cached, string oracle)
    {
        DiffResponse expected = await DiffResponse.SendAsync(Client, request, oracle);
        DiffResponse actual = await DiffResponse.SendAsync(Client, request, cached);
        return DiffResponse.Differences(expected, actual).Select(d => $"{step}: {request} (X-Cache {actual.XCache}): {d}").ToList();
    }

    private static string Reason(DiffResponse oracle, DiffRequest request)
        => request.HasAuthorization ? "to a request with credentials"
            : oracle.SetsCookie ? "it sets a cookie"
            : oracle.Status != 200 ? $"status {oracle.Status}"
            : $"Cache-Control '{oracle.Headers.GetValueOrDefault("cache-control")}'";

    private static string Tally(DiffResponse[] responses, bool validators, bool withXCache)
        => string.Join(" + ", responses
            .GroupBy(r => r.Canonical(validators) + (withXCache ? $" [X-Cache {r.XCache}]" : string.Empty))
            .Select(g => $"{g.Count()}x {{{g.Key}}}"));

    private void AssertNone(IEnumerable<string> failures, string what)
    {
        string[] all = failures.ToArray();
        if (all.Length > 0)
        {
            Assert.Fail($"[{Store}] {what}: {all.Length} difference(s) from the uncached handler\n  " + string.Join("\n  ", all));
        }
    }

    private async Task<(string? Cookie, string XCache)> CookieAsync(string path)
    {
        using HttpResponseMessage response = await Client.GetAsync(path);
        string? cookie = response.Headers.TryGetValues("Set-Cookie", out IEnumerable<string>? values) ? values.First() : null;
        string xCache = response.Headers.TryGetValues("X-Cache", out IEnumerable<string>? x) ? string.Join(",", x) : "(none)";
        return (cookie, xCache);
    }
}

public sealed class EmbeddedStoreDifferentialTests : DifferentialTests
{
    protected override StoreKind Store => StoreKind.Embedded;
}

public sealed class RedisStoreDifferentialTests(RedisFixture redis) : DifferentialTests, IClassFixture<RedisFixture>
{
    protected override StoreKind Store => StoreKind.Redis;

    protected override IRedisDeployment? SharedRedis => redis.Server;
}

public sealed class RedisClusterDifferentialTests(RedisClusterFixture cluster) : DifferentialTests, IClassFixture<RedisClusterFixture>
{
    protected override StoreKind Store => StoreKind.RedisCluster;

    protected override IRedisDeployment? SharedRedis => cluster.Cluster;
}
