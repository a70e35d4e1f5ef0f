using System.Net;
using System.Text.Json;
using Caching.IntegrationTests.App;
using Caching.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.IntegrationTests;

/// <summary>
/// <c>MapCachingAdmin</c>: it will not map without an authorization policy that exists; behind the policy, its
/// endpoints invalidate and clear on every store; without credentials, they change nothing.
/// </summary>
public abstract class CachingAdminTests : IAsyncLifetime
{
    private TestAppHost _host = null!;

    protected abstract StoreKind Store { get; }

    private HttpClient Client => _host.Client;

    public async Task InitializeAsync()
        => _host = await TestAppHost.StartAsync(
            Store,
            map: app =>
            {
                TestEndpoints.Map(app);
                app.MapCachingAdmin("CacheAdmin");

                // An app that opens an enclosing group: the endpoints check the policy themselves too.
                app.MapGroup("/open").AllowAnonymous().MapCachingAdmin("CacheAdmin");
            },
            services: services =>
            {
                services.AddAuthentication(HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
                services.AddAuthorization(o => o.AddPolicy("CacheAdmin", p => p.RequireRole("admin")));
            });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, string? role = "admin", bool adminHeader = true)
    {
        var request = new HttpRequestMessage(method, path);
        if (adminHeader && method == HttpMethod.Post)
        {
            request.Headers.Add("X-Cache-Admin", "1");
        }

        if (role is not null)
        {
            request.Headers.Add("X-Test-Role", role);
        }

        return Client.SendAsync(request);
    }

    private static async Task<long> DeletedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("deleted").GetInt64();
    }

    private async Task<HashSet<string>> AppKeysAsync() => (await _host.AllKeysAsync()).Where(k => !k.StartsWith("caching:", StringComparison.Ordinal)).ToHashSet();

    [Theory]
    [InlineData("GET", "/cache/stats", null)]
    [InlineData("POST", "/cache/clear", null)]
    [InlineData("POST", "/cache/invalidate/keys?key=post:5", null)]
    [InlineData("POST", "/cache/invalidate/pattern?pattern=*", null)]
    [InlineData("POST", "/cache/clear", "reader")]
    [InlineData("POST", "/cache/invalidate/tag?tag=tagged_all", "reader")]
    [InlineData("POST", "/open/cache/clear", null)]
    [InlineData("GET", "/open/cache/stats", null)]
    [InlineData("POST", "/open/cache/clear", "reader")]
    public async Task Without_the_policy_nothing_is_changed_or_shown(string method, string path, string? role)
    {
        await Client.GetAsync("/posts/5");
        await Client.GetAsync("/tagged/1");

        HttpResponseMessage refused = await AdminAsync(new HttpMethod(method), path, role);

        Assert.Equal(role is null ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Superset(new HashSet<string> { "post:5", "tagged:1" }, await AppKeysAsync());
    }

    [Fact]
    public async Task Behind_the_policy_keys_tags_patterns_and_everything_are_invalidated()
    {
        await Client.GetAsync("/posts/5");
        await Client.GetAsync("/posts/6");
        await Client.GetAsync("/posts/7");
        await Client.GetAsync("/tagged/1");
        await Client.GetAsync("/notes/4");

        Assert.Equal(1, await DeletedAsync(await AdminAsync(HttpMethod.Post, "/cache/invalidate/keys?key=post:5")));
        Assert.Equal(1, await DeletedAsync(await AdminAsync(HttpMethod.Post, "/cache/invalidate/tag?tag=tagged_all")));
        Assert.Equal(1, await DeletedAsync(await AdminAsync(HttpMethod.Post, "/cache/invalidate/pattern?pattern=post:6")));
        Assert.Equal(new HashSet<string> { "post:7", "note:4" }, await AppKeysAsync());

        Assert.Equal(2, await DeletedAsync(await AdminAsync(HttpMethod.Post, "/cache/clear")));
        Assert.Empty(await AppKeysAsync());
        Assert.Equal("MISS", (await Client.GetAsync("/posts/7")).Headers.GetValues("X-Cache").Single());
    }

    [Fact]
    public async Task A_post_without_the_admin_header_is_refused_so_another_sites_form_cannot_clear_the_cache()
    {
        await Client.GetAsync("/posts/5");

        HttpResponseMessage refused = await AdminAsync(HttpMethod.Post, "/cache/clear", adminHeader: false);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("X-Cache-Admin", await refused.Content.ReadAsStringAsync());
        Assert.Contains("post:5", await AppKeysAsync());
    }

    [Fact]
    public async Task Stats_show_each_key_prefix_and_are_never_cached()
    {
        await Client.GetAsync("/posts/5");
        await Client.GetAsync("/posts/5");

        HttpResponseMessage stats = await AdminAsync(HttpMethod.Get, "/cache/stats");

        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal("no-store", stats.Headers.CacheControl?.ToString());
        using JsonDocument json = JsonDocument.Parse(await stats.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("enabled").GetBoolean());
        JsonElement post = json.RootElement.GetProperty("keyPrefixes").EnumerateArray().Single(p => p.GetProperty("keyPrefix").GetString() == "post");
        Assert.True(post.GetProperty("hits").GetInt64() >= 1);
        Assert.True(post.GetProperty("misses").GetInt64() >= 1);
    }

    [Theory]
    [InlineData("/cache/invalidate/pattern")]
    [InlineData("/cache/invalidate/pattern?pattern=a&pattern=b")]
    [InlineData("/cache/invalidate/keys")]
    [InlineData("/cache/invalidate/tag?tag=")]
    [InlineData("/cache/invalidate/namespace")]
    [InlineData("/cache/invalidate/pattern?pattern=*")]
    public async Task A_bad_request_is_a_400_with_the_reason_and_deletes_nothing(string path)
    {
        await Client.GetAsync("/posts/5");

        HttpResponseMessage bad = await AdminAsync(HttpMethod.Post, path);

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using JsonDocument json = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
        Assert.False(string.IsNullOrWhiteSpace(json.RootElement.GetProperty("error").GetString()));
        Assert.Contains("post:5", await AppKeysAsync());
    }
}

public sealed class EmbeddedCachingAdminTests : CachingAdminTests
{
    protected override StoreKind Store => StoreKind.Embedded;
}

public sealed class RedisCachingAdminTests : CachingAdminTests
{
    protected override StoreKind Store => StoreKind.Redis;
}

public sealed class RedisClusterCachingAdminTests : CachingAdminTests
{
    protected override StoreKind Store => StoreKind.RedisCluster;
}

/// <summary>Mapping refuses an open admin group.</summary>
public sealed class CachingAdminMappingTests
{
    private static async Task<Exception> MapAsync(Action<IServiceCollection> services, string policy)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.Services.AddAttributeCaching();
        services(builder.Services);
        await using WebApplication app = builder.Build();
        return Record.Exception(() => app.MapCachingAdmin(policy))!;
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task Without_a_policy_name_it_refuses_to_map(string policy)
    {
        Exception refused = await MapAsync(s => s.AddAuthorization(), policy);
        Assert.IsType<ArgumentException>(refused);
        Assert.Contains("authorization policy", refused.Message);
    }

    [Fact]
    public async Task With_a_policy_that_does_not_exist_it_refuses_to_map()
    {
        Exception refused = await MapAsync(s => s.AddAuthorization(o => o.AddPolicy("Other", p => p.RequireRole("x"))), "CacheAdmin");
        Assert.IsType<InvalidOperationException>(refused);
        Assert.Contains("'CacheAdmin'", refused.Message);
    }

    [Fact]
    public async Task Without_authorization_registered_it_refuses_to_map()
    {
        Exception refused = await MapAsync(_ => { }, "CacheAdmin");
        Assert.IsType<InvalidOperationException>(refused);
        Assert.Contains("AddAuthorization", refused.Message);
    }
}
