using System.Net;
using System.Net.Http.Json;
using Caching.IntegrationTests.App;
using Caching.IntegrationTests.Infrastructure;
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
