using System.Net;
using Caching.IntegrationTests.App;
using Caching.IntegrationTests.Infrastructure;

namespace Caching.IntegrationTests;

/// <summary>
/// What a cached endpoint sends is what its handler sends without [Cache]: headers, content types, statuses and
/// runtime types, on misses and hits; what must not be shared is not stored; writes invalidate only on success.
/// </summary>
public abstract class ResponseFidelityTests : IAsyncLifetime
{
    private TestAppHost _host = null!;

    protected abstract StoreKind Store { get; }

    private HttpClient Client => _host.Client;

    public async Task InitializeAsync() => _host = await TestAppHost.StartAsync(Store, map: FidelityEndpoints.Map);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("/f/missing/1", HttpStatusCode.NotFound, "Missing")]
    [InlineData("/f/throws/1", HttpStatusCode.InternalServerError, "Throws")]
    public async Task Concurrent_misses_whose_leader_stores_nothing_each_get_a_real_response(string path, HttpStatusCode expected, string counter)
    {
        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Client.GetAsync(path)));

        Assert.All(responses, r => Assert.Equal(expected, r.StatusCode));
        Assert.DoesNotContain(responses, r => r.Headers.TryGetValues("X-Cache", out var v) && v.Single() == "HIT");
        Assert.InRange(_host.Db.Calls(counter), 2, 10); // the followers ran the handler themselves
    }

    [Theory]
    [InlineData("/f/headers/3", "/u/headers/3")]
    [InlineData("/f/json/3", "/u/json/3")]
    [InlineData("/f/derived/3", "/u/derived/3")]
    [InlineData("/f/stream/4", "/u/stream/4")]
    [InlineData("/f/created/3", "/u/created/3")]
    [InlineData("/api/posts/3/title", "/api/posts/raw/3/title")]
    [InlineData("/api/posts/3/tagged", "/api/posts/raw/3/tagged")]
    public async Task Miss_and_hit_send_the_status_content_type_headers_and_bytes_of_the_uncached_handler(string cached, string uncached)
    {
        HttpResponseMessage reference = await Client.GetAsync(uncached);
        HttpResponseMessage miss = await Client.GetAsync(cached);
        HttpResponseMessage hit = await Client.GetAsync(cached);

        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
        byte[] expected = await reference.Content.ReadAsByteArrayAsync();
        foreach (HttpResponseMessage response in new[] { miss, hit })
        {
            Assert.Equal(reference.StatusCode, response.StatusCode);
            Assert.Equal(reference.Content.Headers.ContentType?.ToString(), response.Content.Headers.ContentType?.ToString());
            Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(Own(reference), Own(response, withEntityTag: reference.Headers.ETag is not null));
            Assert.NotNull(response.Headers.ETag); // the cache's validator, where the handler set none
        }
    }

    [Theory]
    [InlineData("/f/cookie/4", "Cookie")]
    [InlineData("/f/nostore/4", "NoStore")]
    [InlineData("/f/private/4", "Private")]
    [InlineData("/f/latecookie/4", "LateCookie")]
    [InlineData("/f/latenostore/4", "LateNoStore")]
    [InlineData("/f/latevary/4", "LateVary")]
    public async Task Responses_with_cookies_no_store_or_private_are_never_stored(string path, string counter)
    {
        HttpResponseMessage first = await Client.GetAsync(path);
        HttpResponseMessage second = await Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, _host.Db.Calls(counter));
        Assert.Equal(first.Headers.Contains("Set-Cookie"), second.Headers.Contains("Set-Cookie"));
        Assert.NotEqual("HIT", second.Headers.GetValues("X-Cache").Single());
    }

    [Fact]
    public async Task A_header_added_at_the_last_moment_is_the_responses_own_and_is_neither_stored_nor_replayed()
    {
        HttpResponseMessage miss = await Client.GetAsync("/f/lateheader/4");
        HttpResponseMessage hit = await Client.GetAsync("/f/lateheader/4");

        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
        Assert.Equal(1, _host.Db.Calls("LateHeader"));
        // Only the request that ran the handler registered the callback: the hit has no such header at all.
        Assert.Single(miss.Headers.GetValues("X-Request-Id"));
        Assert.False(hit.Headers.Contains("X-Request-Id"));
    }

    [Theory]
    [InlineData("/f/forbid/6", false)]
    [InlineData("/f/challenge/6", false)]
    [InlineData("/f/problem/6", false)]
    [InlineData("/f/status/6", false)]
    [InlineData("/f/throwing/6", true)] // it may have changed data before it threw: when in doubt, invalidate
    [InlineData("/f/redirect/6", true)]
    [InlineData("/f/ok/6", true)]
    public async Task A_write_invalidates_only_when_the_response_it_sent_is_a_success(string write, bool invalidates)
    {
        await Client.GetAsync("/f/post/6");
        await Client.PutAsync(write, content: null);
        HttpResponseMessage after = await Client.GetAsync("/f/post/6");

        Assert.Equal(invalidates ? "MISS" : "HIT", after.Headers.GetValues("X-Cache").Single());
        Assert.Equal(invalidates ? 2 : 1, _host.Db.Calls("FPost"));
    }

    [Fact]
    public async Task A_controller_write_that_sent_403_does_not_invalidate()
    {
        await Client.GetAsync("/api/posts/8");
        HttpResponseMessage refused = await Client.PutAsync("/api/posts/8/refused", content: null);
        HttpResponseMessage after = await Client.GetAsync("/api/posts/8");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("HIT", after.Headers.GetValues("X-Cache").Single());
    }

    [Theory]
    [InlineData("", "r2")]
    [InlineData("empty400", "r3")]
    [InlineData("body400", "r4")]
    public async Task On_a_hit_an_app_filter_that_answers_itself_keeps_its_status_and_its_headers_are_not_overwritten(string mode, string requestId)
    {
        await SendAsync("/f/filtered/2", "", "r1"); // fills the cache

        HttpResponseMessage cached = await SendAsync("/f/filtered/2", mode, requestId);
        HttpResponseMessage reference = await SendAsync("/u/filtered/2", mode, requestId);

        Assert.Equal(reference.StatusCode, cached.StatusCode);
        Assert.Equal(await reference.Content.ReadAsStringAsync(), await cached.Content.ReadAsStringAsync());
        Assert.Equal(requestId, cached.Headers.GetValues("X-Request-Id").Single());
        Assert.Equal(1, _host.Db.Calls("Filtered"));
    }

    [Fact]
    public async Task A_head_request_never_stores_an_empty_body_for_later_gets()
    {
        using var head = new HttpRequestMessage(HttpMethod.Head, "/f/headget/5");
        HttpResponseMessage first = await Client.SendAsync(head);
        HttpResponseMessage get = await Client.GetAsync("/f/headget/5");
        HttpResponseMessage hit = await Client.GetAsync("/f/headget/5");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(105, (await get.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal(105, (await hit.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
    }

    private async Task<HttpResponseMessage> SendAsync(string path, string mode, string requestId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "X-Mode", mode }, { "X-Req", requestId } } };
        return await Client.SendAsync(request);
    }

    // The response's headers without the per-response ones (and without the cache's own).
    // The headers the handler decides: without the per-response ones and the cache's own (its status headers, Age,
    // and the ETag it adds where the handler set none).
    private static string Own(HttpResponseMessage response, bool withEntityTag = true) => string.Join("\n", response.Headers
        .Concat(response.Content.Headers)
        .Where(h => h.Key is not ("Date" or "Server" or "Transfer-Encoding" or "Content-Length" or "X-Cache" or "Cache-Status" or "Age"))
        .Where(h => withEntityTag || h.Key != "ETag")
        .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
        .Select(h => h.Key + ": " + string.Join(",", h.Value)));
}

/// <summary>A body past <see cref="CachingOptions.MaximumBodySize"/> streams through whole and is not stored.</summary>
public sealed class MaximumBodySizeTests : IAsyncLifetime
{
    private TestAppHost _host = null!;

    public async Task InitializeAsync() => _host = await TestAppHost.StartAsync(StoreKind.Embedded, map: FidelityEndpoints.Map, configure: o => o.MaximumBodySize = 1000);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_body_over_the_limit_is_sent_whole_with_its_status_header_and_not_stored()
    {
        HttpResponseMessage first = await _host.Client.GetAsync("/f/big/7");
        HttpResponseMessage second = await _host.Client.GetAsync("/f/big/7");

        Assert.Equal(new string('b', 5007), await first.Content.ReadAsStringAsync());
        Assert.Equal(new string('b', 5007), await second.Content.ReadAsStringAsync());
        Assert.Equal("MISS", second.Headers.GetValues("X-Cache").Single());
        Assert.Equal(2, _host.Db.Calls("Big"));
    }
}

public sealed class EmbeddedStoreResponseFidelityTests : ResponseFidelityTests
{
    protected override StoreKind Store => StoreKind.Embedded;
}

public sealed class RedisStoreResponseFidelityTests : ResponseFidelityTests
{
    protected override StoreKind Store => StoreKind.Redis;
}
