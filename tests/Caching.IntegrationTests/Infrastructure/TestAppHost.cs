using Caching.IntegrationTests.App;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Caching.IntegrationTests.Infrastructure;

/// <summary>The test app on Kestrel at 127.0.0.1 on a free port, with the embedded store or a real redis-server.</summary>
public sealed class TestAppHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestAppHost(WebApplication app, HttpClient client, RedisServer? redis)
    {
        _app = app;
        Client = client;
        Redis = redis;
    }

    public HttpClient Client { get; }

    public RedisServer? Redis { get; }

    public IServiceProvider Services => _app.Services;

    public BlogStore Db => _app.Services.GetRequiredService<BlogStore>();

    public ICacheStore Store => _app.Services.GetRequiredService<ICacheStore>();

    public static async Task<TestAppHost> StartAsync(bool useRedis, Action<WebApplication>? map = null)
    {
        RedisServer? redis = useRedis ? await RedisServer.StartAsync() : null;
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<BlogStore>();
        builder.Services.AddControllers().AddApplicationPart(typeof(TestAppHost).Assembly);
        builder.Services.AddAttributeCaching(o =>
        {
            o.AddCacheStatusHeader = true;
            if (redis is not null)
            {
                o.UseRedis(redis.ConnectionString);
            }
        });

        WebApplication app = builder.Build();
        (map ?? TestEndpoints.Map)(app);
        app.MapControllers();
        await app.StartAsync();
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return new TestAppHost(app, client, redis);
    }

    /// <summary>Every key in the store, by a full scan.</summary>
    public async Task<HashSet<string>> AllKeysAsync()
    {
        if (Redis is not null)
        {
            var keys = new HashSet<string>(StringComparer.Ordinal);
            await foreach (StackExchange.Redis.RedisKey key in Redis.Server.KeysAsync(pageSize: 1000))
            {
                keys.Add(key!);
            }

            return keys;
        }

        return ((InMemoryCacheStore)Store).LiveKeys().ToHashSet(StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
