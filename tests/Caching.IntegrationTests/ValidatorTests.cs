using System.Net;
using System.Net.Http.Json;
using Caching.IntegrationTests.App;
using Caching.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Caching.IntegrationTests;

/// <summary>
/// Entity tags on cached GET responses, If-None-Match answered 304 (RFC 9110 §13.1.2), RFC 9211 Cache-Status and
/// Age, on every path a response takes: the hit path before binding, the filter (endpoints with filters of the
/// app's own), controllers, and misses.
/// </summary>
public abstract class ValidatorTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));
    private TestAppHost _host = null!;

    protected abstract StoreKind Store { get; }

    private HttpClient Client => _host.Client;

    public async Task InitializeAsync() => _host = await TestAppHost.StartAsync(Store, map: ValidatorEndpoints.Map, time: _time);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("/v/small/3", "VSmall", null)]
    [InlineData("/v/large/3", "VLarge", null)]
    [InlineData("/v/guarded/3", "VGuarded", "k")]
    [InlineData("/api/posts/3", null, null)]
    public async Task Misses_and_hits_carry_one_strong_entity_tag_and_a_matching_If_None_Match_is_answered_304_without_the_handler(string path, string? counter, string? apiKey)
    {
        HttpResponseMessage miss = await SendAsync(path, apiKey: apiKey);
        HttpResponseMessage hit = await SendAsync(path, apiKey: apiKey);
        HttpResponseMessage conditional = await SendAsync(path, ifNoneMatch: EntityTag(miss), apiKey: apiKey);

        Assert.Equal(HttpStatusCode.OK, miss.StatusCode);
        Assert.Equal("Caching; fwd=miss; stored", CacheStatus(miss));
        string tag = EntityTag(miss);
        Assert.Matches("^\"[A-Za-z0-9_-]{22}\"$", tag);
        Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        Assert.Equal("Caching; hit", CacheStatus(hit));
        Assert.Equal(tag, EntityTag(hit));
        Assert.Equal(await miss.Content.ReadAsByteArrayAsync(), await hit.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.NotModified, conditional.StatusCode);
        Assert.Empty(await conditional.Content.ReadAsByteArrayAsync());
        Assert.Equal(tag, EntityTag(conditional));
        Assert.Equal("Caching; hit", CacheStatus(conditional));
        if (counter is not null)
        {
            Assert.Equal(1, _host.Db.Calls(counter));
        }
    }

    [Fact]
    public async Task The_tag_follows_the_content_and_a_miss_whose_new_response_matches_is_a_304()
    {
        string first = EntityTag(await SendAsync("/v/small/4"));

        // The same content after an invalidation: the handler runs again, its response has the same tag: 304.
        await Client.PutAsync("/v/small/4?title=" + Uri.EscapeDataString(_host.Db.Posts[4].Title), null);
        HttpResponseMessage unchanged = await SendAsync("/v/small/4", ifNoneMatch: first);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Equal("Caching; fwd=miss; stored", CacheStatus(unchanged));
        Assert.Equal(first, EntityTag(unchanged));
        Assert.Equal(2, _host.Db.Calls("VSmall"));
        Assert.Equal("Caching; hit", CacheStatus(await SendAsync("/v/small/4")));

        // New content: the old tag no longer matches, the new body comes with a new tag.
        await Client.PutAsync("/v/small/4?title=changed", null);
        HttpResponseMessage changed = await SendAsync("/v/small/4", ifNoneMatch: first);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal("changed", (await changed.Content.ReadFromJsonAsync<Post>())!.Title);
        Assert.NotEqual(first, EntityTag(changed));
        Assert.Equal(HttpStatusCode.NotModified, (await SendAsync("/v/small/4", ifNoneMatch: EntityTag(changed))).StatusCode);
    }

    [Theory]
    [InlineData("{0}", true)]
    [InlineData("W/{0}", true)]
    [InlineData("*", true)]
    [InlineData("\"other\", {0}", true)]
    [InlineData("\"a,b\" ,W/\"c\",  {0}", true)]
    [InlineData("\"other\"", false)]
    [InlineData("\"other\", W/\"more\"", false)]
    [InlineData("not-a-tag", false)]
    [InlineData("", false)]
    public async Task If_None_Match_lists_stars_and_weak_tags_follow_RFC_9110(string header, bool notModified)
    {
        foreach (string path in new[] { "/v/small/5", "/v/large/5" })
        {
            string tag = EntityTag(await SendAsync(path));
            HttpResponseMessage response = await SendAsync(path, ifNoneMatch: string.Format(header, tag));
            Assert.Equal(notModified ? HttpStatusCode.NotModified : HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(notModified ? 0 : (await SendAsync(path)).Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);
        }
    }

    [Fact]
    public async Task The_handlers_own_entity_tag_is_kept_and_validates_on_misses_and_hits()
    {
        HttpResponseMessage miss = await SendAsync("/v/own/6", ifNoneMatch: "\"own-6\"");
        Assert.Equal(HttpStatusCode.NotModified, miss.StatusCode);
        Assert.Equal("\"own-6\"", EntityTag(miss));
        Assert.Equal(1, _host.Db.Calls("VOwn"));

        HttpResponseMessage hit = await SendAsync("/v/own/6");
        Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        Assert.Equal("Caching; hit", CacheStatus(hit));
        Assert.Equal("\"own-6\"", EntityTag(hit));
        Assert.Equal(HttpStatusCode.NotModified, (await SendAsync("/v/own/6", ifNoneMatch: "W/\"own-6\"")).StatusCode);
        Assert.Equal(1, _host.Db.Calls("VOwn"));
    }

    [Fact]
    public async Task A_conditional_request_still_passes_the_apps_filters()
    {
        string tag = EntityTag(await SendAsync("/v/guarded/7", apiKey: "k"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync("/v/guarded/7", ifNoneMatch: tag)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync("/v/guarded/7", ifNoneMatch: "*")).StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, (await SendAsync("/v/guarded/7", ifNoneMatch: tag, apiKey: "k")).StatusCode);
    }

    [Fact]
    public async Task Head_requests_are_answered_304_too_and_never_fill_the_entry()
    {
        HttpResponseMessage get = await SendAsync("/v/head/8");
        HttpResponseMessage head = await SendAsync("/v/head/8", ifNoneMatch: EntityTag(get), method: HttpMethod.Head);

        Assert.Equal(HttpStatusCode.NotModified, head.StatusCode);
        Assert.Equal(EntityTag(get), EntityTag(head));
        Assert.Equal(1, _host.Db.Calls("VHead"));
    }

    [Fact]
    public async Task Hits_carry_their_age_in_seconds_since_the_response_was_stored()
    {
        HttpResponseMessage miss = await SendAsync("/v/large/9");
        _time.Advance(TimeSpan.FromSeconds(95.6));
        HttpResponseMessage hit = await SendAsync("/v/large/9");
        HttpResponseMessage notModified = await SendAsync("/v/large/9", ifNoneMatch: EntityTag(miss));

        Assert.Null(miss.Headers.Age);
        Assert.Equal(TimeSpan.FromSeconds(95), hit.Headers.Age);
        Assert.Equal(TimeSpan.FromSeconds(95), notModified.Headers.Age);
    }

    // A downstream cache needs Age only to judge freshness, which it computes from Cache-Control, Expires or
    // Last-Modified: a response that sets any of them is stored with the time it was stored, however small, so its
    // hits carry Age. A small response without them stays the plain JSON in the store and has no stored time.
    [Theory]
    [InlineData("/v/fresh/9")]
    [InlineData("/v/modified/9")]
    [InlineData("/v/expires/9")]
    public async Task Small_responses_with_freshness_of_their_own_carry_their_age_on_hits(string path)
    {
        HttpResponseMessage miss = await SendAsync(path);
        _time.Advance(TimeSpan.FromSeconds(12.2));
        HttpResponseMessage hit = await SendAsync(path);
        byte[] body = await hit.Content.ReadAsByteArrayAsync();

        Assert.True(body.Length < 1024, $"{body.Length} bytes");
        Assert.Null(miss.Headers.Age);
        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
        Assert.Equal(TimeSpan.FromSeconds(12), hit.Headers.Age);
    }

    [Fact]
    public async Task Small_responses_without_freshness_stay_plain_json_in_the_store_and_carry_no_age()
    {
        HttpResponseMessage miss = await SendAsync("/v/small/12");
        _time.Advance(TimeSpan.FromSeconds(5));
        HttpResponseMessage hit = await SendAsync("/v/small/12");

        Assert.Equal(await miss.Content.ReadAsByteArrayAsync(), await _host.Store.GetAsync("v_small:12"));
        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
        Assert.Null(hit.Headers.Age);
        Assert.Null(hit.Headers.CacheControl);
        Assert.False(hit.Content.Headers.Contains("Expires") || hit.Content.Headers.Contains("Last-Modified"));
    }

    [Fact]
    public async Task Requests_with_credentials_are_marked_as_bypassing_the_cache_and_get_no_validator_of_ours()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v/small/10");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "token");
        HttpResponseMessage response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Caching; fwd=bypass", CacheStatus(response));
        Assert.Null(response.Headers.ETag);
        Assert.Empty(await _host.AllKeysAsync());
    }

    [Fact]
    public async Task ICache_reads_an_entry_an_endpoint_stored_with_its_tag_as_the_plain_value()
    {
        Post[] sent = (await (await SendAsync("/v/large/11")).Content.ReadFromJsonAsync<Post[]>())!;

        CacheResult<Post[]> read = await _host.Services.GetRequiredService<ICache>().TryGetAsync<Post[]>("v_large:11");

        Assert.True(read.Found);
        Assert.Equal(sent, read.Value);
    }

    private async Task<HttpResponseMessage> SendAsync(string path, string? ifNoneMatch = null, string? apiKey = null, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        HttpResponseMessage response = await Client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static string EntityTag(HttpResponseMessage response)
        => response.Headers.TryGetValues("ETag", out IEnumerable<string>? values) ? values.Single() : throw new Xunit.Sdk.XunitException($"no ETag on {(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {response.Content.ReadAsStringAsync().Result[..Math.Min(600, response.Content.ReadAsStringAsync().Result.Length)]}");

    private static string? CacheStatus(HttpResponseMessage response)
        => response.Headers.TryGetValues("Cache-Status", out IEnumerable<string>? values) ? string.Join(", ", values) : null;
}

public sealed class EmbeddedStoreValidatorTests : ValidatorTests
{
    protected override StoreKind Store => StoreKind.Embedded;
}

public sealed class RedisStoreValidatorTests : ValidatorTests
{
    protected override StoreKind Store => StoreKind.Redis;
}

/// <summary>An app with the validator endpoints, and a client that sends Accept-Encoding and decodes once.</summary>
public abstract class CompressionTestBase : IAsyncLifetime
{
    private TestAppHost _host = null!;

    protected abstract StoreKind Store { get; }

    protected virtual Action<CachingOptions>? Configure => null;

    protected virtual bool WithResponseCompression => false;

    protected TestAppHost Host => _host;

    public async Task InitializeAsync() => _host = await TestAppHost.StartAsync(
        Store,
        map: ValidatorEndpoints.Map,
        configure: Configure,
        services: WithResponseCompression ? s => s.AddResponseCompression() : null,
        pipeline: WithResponseCompression ? app => app.UseResponseCompression() : null);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    protected async Task<Response> GetAsync(string path, string? acceptEncoding, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        using HttpResponseMessage response = await _host.Client.SendAsync(request);
        byte[] raw = await response.Content.ReadAsByteArrayAsync();
        string? encoding = response.Content.Headers.ContentEncoding.Count == 0 ? null : string.Join(",", response.Content.Headers.ContentEncoding);
        return new Response(
            response.StatusCode,
            encoding,
            raw,
            Decode(raw, encoding),
            response.Content.Headers.ContentLength,
            string.Join(",", response.Headers.Vary),
            response.Headers.TryGetValues("ETag", out IEnumerable<string>? tags) ? tags.Single() : "",
            response.Headers.TryGetValues("Cache-Status", out IEnumerable<string>? status) ? status.Single() : null);
    }

    // Decodes exactly once: a body compressed twice stays compressed and fails the comparison.
    private static byte[] Decode(byte[] raw, string? encoding)
    {
        if (encoding is null)
        {
            return raw;
        }

        using var input = new MemoryStream(raw);
        using Stream decoder = encoding switch
        {
            "br" => new System.IO.Compression.BrotliStream(input, System.IO.Compression.CompressionMode.Decompress),
            "gzip" => new System.IO.Compression.GZipStream(input, System.IO.Compression.CompressionMode.Decompress),
            _ => throw new Xunit.Sdk.XunitException($"unexpected Content-Encoding '{encoding}'"),
        };
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }

    protected sealed record Response(HttpStatusCode Status, string? ContentEncoding, byte[] Raw, byte[] Decoded, long? ContentLength, string Vary, string EntityTag, string? CacheStatus);
}

/// <summary>
/// Entries of 1 KiB or more stored Brotli-compressed once and served as stored to clients that accept Brotli;
/// decompressed for the others; byte-identical to the uncached handler's body once decoded.
/// </summary>
public abstract class StoredCompressionTests : CompressionTestBase
{
    public static TheoryData<string?, string?> Encodings => new()
    {
        { null, null },
        { "br", "br" },
        { "gzip, deflate, br", "br" },
        { "BR;q=0.5", "br" },
        { "*", "br" },
        { "gzip", "gzip" },
        { "GZip;q=0.8", "gzip" },
        { "br;q=0, gzip", "gzip" },
        { "gzip;q=1, br;q=0.5", "gzip" },
        { "br;q=0.5, gzip;q=0.5", "br" },
        { "br;q=0.0, *", "gzip" },
        { "br;q=0, gzip;q=0", null },
        { "*;q=0", null },
        { "identity", null },
        { "deflate", null },
        { "br;q=0, gzip, gzip;q=0", null },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task A_hit_is_sent_as_stored_to_clients_that_prefer_brotli_in_gzip_to_those_that_accept_only_gzip_and_decodes_to_the_handlers_bytes(string? acceptEncoding, string? expectedEncoding)
    {
        byte[] reference = await (await Host.Client.GetAsync("/u/large/3")).Content.ReadAsByteArrayAsync();
        Response miss = await GetAsync("/v/large/3", acceptEncoding);
        Response hit = await GetAsync("/v/large/3", acceptEncoding);

        Assert.Equal("Caching; fwd=miss; stored", miss.CacheStatus);
        Assert.Equal("Caching; hit", hit.CacheStatus);
        Assert.Equal(expectedEncoding, hit.ContentEncoding);
        Assert.Equal(reference, hit.Decoded);
        Assert.Equal(reference, miss.Decoded);
        Assert.Contains("Accept-Encoding", hit.Vary);
        Assert.Equal(hit.Raw.Length, hit.ContentLength);
        Assert.Equal("Caching; hit", hit.CacheStatus);
        Assert.Equal(expectedEncoding is null ? miss.EntityTag : miss.EntityTag[..^1] + "-" + expectedEncoding + "\"", hit.EntityTag);

        // Every form's tag validates: the content is the same.
        foreach (string tag in new[] { miss.EntityTag, miss.EntityTag[..^1] + "-br\"", miss.EntityTag[..^1] + "-gzip\"" })
        {
            Response conditional = await GetAsync("/v/large/3", acceptEncoding, tag);
            Assert.Equal(HttpStatusCode.NotModified, conditional.Status);
            Assert.Equal(hit.EntityTag, conditional.EntityTag);
        }
    }

    [Fact]
    public async Task Large_entries_are_stored_compressed_small_ones_stay_the_plain_json_and_incompressible_ones_as_they_are()
    {
        Response large = await GetAsync("/v/large/4", "br");
        Response small = await GetAsync("/v/small/4", "br");
        Response random = await GetAsync("/v/random/4", "br");

        byte[] storedLarge = (await Host.Store.GetAsync("v_large:4"))!;
        byte[] storedSmall = (await Host.Store.GetAsync("v_small:4"))!;
        byte[] storedRandom = (await Host.Store.GetAsync("v_random:4"))!;

        Assert.True(storedLarge.Length * 4 < large.Decoded.Length, $"{storedLarge.Length} stored for {large.Decoded.Length}");
        Assert.Equal(small.Decoded, storedSmall);
        Assert.True(storedRandom.Length > random.Decoded.Length);
        Assert.Null((await GetAsync("/v/small/4", "br")).ContentEncoding);
        Assert.Null((await GetAsync("/v/random/4", "br")).ContentEncoding);
        Assert.Equal(random.Decoded, (await GetAsync("/v/random/4", "br")).Decoded);
    }
}

public sealed class EmbeddedStoreCompressionTests : StoredCompressionTests
{
    protected override StoreKind Store => StoreKind.Embedded;

    [Fact]
    public async Task ICache_reads_a_compressed_entry_as_its_value()
    {
        Post[] sent = System.Text.Json.JsonSerializer.Deserialize<Post[]>((await GetAsync("/v/large/11", "br")).Decoded, System.Text.Json.JsonSerializerOptions.Web)!;

        CacheResult<Post[]> read = await Host.Services.GetRequiredService<ICache>().TryGetAsync<Post[]>("v_large:11");

        Assert.True(read.Found);
        Assert.Equal(sent, read.Value);
    }
}

public sealed class RedisStoreCompressionTests : StoredCompressionTests
{
    protected override StoreKind Store => StoreKind.Redis;
}

public sealed class RedisClusterCompressionTests : StoredCompressionTests
{
    protected override StoreKind Store => StoreKind.RedisCluster;
}

/// <summary>With CompressionThreshold 0 nothing is stored compressed.</summary>
public sealed class CompressionOffTests : CompressionTestBase
{
    protected override StoreKind Store => StoreKind.Embedded;

    protected override Action<CachingOptions>? Configure => o => o.CompressionThreshold = 0;

    [Fact]
    public async Task Entries_are_stored_and_served_uncompressed()
    {
        byte[] reference = await (await Host.Client.GetAsync("/u/large/5")).Content.ReadAsByteArrayAsync();
        await GetAsync("/v/large/5", null);
        Response hit = await GetAsync("/v/large/5", "br");

        Assert.Null(hit.ContentEncoding);
        Assert.Equal("Caching; hit", hit.CacheStatus);
        Assert.Equal(reference, hit.Raw);
        Assert.True((await Host.Store.GetAsync("v_large:5"))!.Length > reference.Length);
    }
}

/// <summary>
/// An app that also uses ASP.NET Core's response compression: a body is never compressed twice; hits whose client
/// accepts Brotli or gzip skip the middleware's work, misses are compressed by it as before.
/// </summary>
public sealed class WithResponseCompressionMiddlewareTests : CompressionTestBase
{
    protected override StoreKind Store => StoreKind.Embedded;

    protected override bool WithResponseCompression => true;

    [Theory]
    [InlineData("br, gzip", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData(null, null)]
    public async Task Bodies_are_compressed_once(string? acceptEncoding, string? expected)
    {
        byte[] reference = await (await Host.Client.GetAsync("/u/large/6")).Content.ReadAsByteArrayAsync();
        Response miss = await GetAsync("/v/large/6", acceptEncoding);
        Response hit = await GetAsync("/v/large/6", acceptEncoding);
        foreach (Response response in new[] { miss, hit })
        {
            Assert.Equal(expected, response.ContentEncoding);
            Assert.Equal(reference, response.Decoded);
        }

        // The hit is the stored form (its tag names the coding), not one the middleware compressed again.
        Assert.Equal(expected is null ? miss.EntityTag : miss.EntityTag[..^1] + "-" + expected + "\"", hit.EntityTag);
    }
}
