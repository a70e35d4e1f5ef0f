using System.Net;
using System.Net.Http.Json;
using Caching.IntegrationTests.App;
using Caching.IntegrationTests.Infrastructure;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.IntegrationTests;

/// <summary>
/// A service's HybridCache entries and <c>[Cache]</c> endpoints share keys and tags: an endpoint's write removes what
/// the service stored, and the service reads what an endpoint stored.
/// </summary>
public abstract class HybridCacheEndpointTests : IAsyncLifetime
{
    private TestAppHost _host = null!;

    protected abstract StoreKind Store { get; }

    protected virtual IRedisDeployment? SharedRedis => null;

    private HybridCache Hybrid => _host.Services.GetRequiredService<HybridCache>();

    public async Task InitializeAsync() => _host = await TestAppHost.StartAsync(Store, SharedRedis);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static Func<CancellationToken, ValueTask<T>> Counting<T>(int[] calls, T value)
        => _ =>
        {
            Interlocked.Increment(ref calls[0]);
            return ValueTask.FromResult(value);
        };

    [Fact]
    public async Task A_write_endpoints_tag_invalidation_removes_a_HybridCache_entry_with_that_tag()
    {
        int[] calls = [0];
        await Hybrid.GetOrCreateAsync("report:tagged", Counting(calls, "v1"), tags: ["tagged_all"]);
        Assert.Equal("v1", await Hybrid.GetOrCreateAsync("report:tagged", Counting(calls, "unused"), tags: ["tagged_all"]));

        Assert.Equal(HttpStatusCode.NoContent, (await _host.Client.PostAsync("/tagged/0/refresh", null)).StatusCode);

        Assert.Equal("v2", await Hybrid.GetOrCreateAsync("report:tagged", Counting(calls, "v2"), tags: ["tagged_all"]));
        Assert.Equal(2, calls[0]);
    }

    [Fact]
    public async Task A_write_endpoints_key_and_pattern_invalidations_remove_HybridCache_entries()
    {
        int[] calls = [0];
        await Hybrid.GetOrCreateAsync("recent_posts:global", Counting(calls, "recent"));
        await Hybrid.GetOrCreateAsync("user_7_posts:summary", Counting(calls, "summary"));
        await Hybrid.GetOrCreateAsync("user_8_posts:summary", Counting(calls, "other user"));

        HttpResponseMessage write = await _host.Client.PutAsJsonAsync("/posts/5?userId=7", new PostUpdate(3, "new title"));
        Assert.Equal(HttpStatusCode.OK, write.StatusCode);

        Assert.Equal("recent 2", await Hybrid.GetOrCreateAsync("recent_posts:global", Counting(calls, "recent 2")));
        Assert.Equal("summary 2", await Hybrid.GetOrCreateAsync("user_7_posts:summary", Counting(calls, "summary 2")));
        Assert.Equal("other user", await Hybrid.GetOrCreateAsync("user_8_posts:summary", Counting(calls, "unused")));
        Assert.Equal(5, calls[0]);
    }

    [Fact]
    public async Task HybridCache_reads_an_endpoints_entry_and_the_endpoints_write_removes_it()
    {
        Assert.Equal("MISS", (await _host.Client.GetAsync("/posts/5")).Headers.GetValues("X-Cache").Single());
        int[] calls = [0];

        Post cached = await Hybrid.GetOrCreateAsync("post:5", Counting(calls, new Post(0, 0, 0, "from the service")));
        Assert.Equal(0, calls[0]);
        Assert.Equal(5, cached.Id);

        await _host.Client.PutAsJsonAsync("/posts/5?userId=7", new PostUpdate(3, "new title"));

        Post reloaded = await Hybrid.GetOrCreateAsync("post:5", Counting(calls, new Post(5, 0, 3, "from the service")));
        Assert.Equal("from the service", reloaded.Title);
        Assert.Equal(1, calls[0]);
    }
}

public sealed class EmbeddedHybridCacheEndpointTests : HybridCacheEndpointTests
{
    protected override StoreKind Store => StoreKind.Embedded;
}

[Collection("redis")]
public sealed class RedisHybridCacheEndpointTests(RedisFixture redis) : HybridCacheEndpointTests
{
    protected override StoreKind Store => StoreKind.Redis;

    protected override IRedisDeployment? SharedRedis => redis.Server;
}
