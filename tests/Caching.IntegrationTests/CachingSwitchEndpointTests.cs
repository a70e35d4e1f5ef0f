using System.Net.Http.Json;
using Caching.IntegrationTests.App;
using Caching.IntegrationTests.Infrastructure;
using Caching.Runtime.Tests.Infrastructure;

namespace Caching.IntegrationTests;

/// <summary>
/// <c>Caching:Enabled</c> switched in configuration while the app runs: cached endpoints answer exactly as their
/// uncached twins (no cache headers, the handler runs every time), writes keep invalidating, and switching back on
/// never serves what changed meanwhile. On every store.
/// </summary>
public abstract class CachingSwitchEndpointTests : IAsyncLifetime
{
    private readonly SwitchableConfiguration _configuration = new();
    private TestAppHost _host = null!;

    protected abstract StoreKind Store { get; }

    private HttpClient Client => _host.Client;

    public async Task InitializeAsync() => _host = await TestAppHost.StartAsync(Store, configuration: _configuration);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("/posts/5", "/raw/posts/5", "GetPost")]
    [InlineData("/api/posts/7", "/api/posts/raw/7", "ApiGetPost")]
    public async Task Switched_off_a_stored_endpoint_answers_as_its_uncached_twin_and_runs_the_handler_every_time(string cached, string uncached, string handler)
    {
        Assert.Equal("MISS", (await Client.GetAsync(cached)).Headers.GetValues("X-Cache").Single());
        Assert.Equal(1, _host.Db.Calls(handler));

        _configuration.SetCachingEnabled(false);
        HttpResponseMessage reference = await Client.GetAsync(uncached);
        HttpResponseMessage first = await Client.GetAsync(cached);
        HttpResponseMessage second = await Client.GetAsync(cached);

        Assert.Equal(3, _host.Db.Calls(handler)); // the entry stored before is not served
        byte[] expected = await reference.Content.ReadAsByteArrayAsync();
        foreach (HttpResponseMessage response in new[] { first, second })
        {
            Assert.Equal(reference.StatusCode, response.StatusCode);
            Assert.Equal(reference.Content.Headers.ContentType?.ToString(), response.Content.Headers.ContentType?.ToString());
            Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());
            Assert.False(response.Headers.Contains("X-Cache"));
            Assert.False(response.Headers.Contains("Cache-Status"));
            Assert.Null(response.Headers.ETag);
        }

        _configuration.SetCachingEnabled(true);
        Assert.Equal("HIT", (await Client.GetAsync(cached)).Headers.GetValues("X-Cache").Single());
        Assert.Equal(3, _host.Db.Calls(handler));
    }

    [Fact]
    public async Task Switched_off_nothing_is_stored_and_a_head_request_runs_the_handler()
    {
        await Client.GetAsync("/headlines/1");

        _configuration.SetCachingEnabled(false);
        await Client.GetAsync("/posts/6");
        using var head = new HttpRequestMessage(HttpMethod.Head, "/headlines/1");
        HttpResponseMessage answered = await Client.SendAsync(head);

        Assert.False(answered.Headers.Contains("X-Cache")); // with the cache on, a HEAD is a hit here
        Assert.DoesNotContain("post:6", await _host.AllKeysAsync());
        Assert.Equal(1, _host.Db.Calls("GetPost"));
        Assert.Equal(2, _host.Db.Calls("Headline"));
    }

    [Fact]
    public async Task A_write_made_while_off_invalidates_so_switching_back_on_serves_the_new_data()
    {
        await Client.GetAsync("/posts/9");
        await Client.GetAsync("/api/posts/9");

        _configuration.SetCachingEnabled(false);
        Assert.True((await Client.PutAsJsonAsync("/posts/9?userId=1", new PostUpdate(2, "changed while off"))).IsSuccessStatusCode);
        Assert.True((await Client.PutAsJsonAsync("/api/posts/9", new PostUpdate(2, "changed again while off"))).IsSuccessStatusCode);
        _configuration.SetCachingEnabled(true);

        HttpResponseMessage minimal = await Client.GetAsync("/posts/9");
        HttpResponseMessage controller = await Client.GetAsync("/api/posts/9");
        Assert.Equal("MISS", minimal.Headers.GetValues("X-Cache").Single());
        Assert.Equal("MISS", controller.Headers.GetValues("X-Cache").Single());
        Assert.Equal("changed again while off", (await minimal.Content.ReadFromJsonAsync<Post>())!.Title);
        Assert.Equal("changed again while off", (await controller.Content.ReadFromJsonAsync<Post>())!.Title);
    }

    [Fact]
    public async Task A_write_through_made_while_off_leaves_no_old_copy()
    {
        await Client.GetAsync("/notes/4");

        _configuration.SetCachingEnabled(false);
        await Client.PutAsJsonAsync("/notes/4", new Note(0, "updated while off"));
        _configuration.SetCachingEnabled(true);

        // The write-through value was not stored, and the copy from before the write is gone: the handler answers.
        HttpResponseMessage read = await Client.GetAsync("/notes/4");
        Assert.Equal("MISS", read.Headers.GetValues("X-Cache").Single());
        Assert.Equal(2, _host.Db.Calls("GetNote"));
    }
}

public sealed class EmbeddedCachingSwitchEndpointTests : CachingSwitchEndpointTests
{
    protected override StoreKind Store => StoreKind.Embedded;
}

public sealed class RedisCachingSwitchEndpointTests : CachingSwitchEndpointTests
{
    protected override StoreKind Store => StoreKind.Redis;
}

public sealed class RedisClusterCachingSwitchEndpointTests : CachingSwitchEndpointTests
{
    protected override StoreKind Store => StoreKind.RedisCluster;
}
