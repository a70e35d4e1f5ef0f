using System.Text.Encodings.Web;
using Caching.IntegrationTests.Infrastructure;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Caching.IntegrationTests.Differential;

/// <summary>
/// The differential app on Kestrel at 127.0.0.1 on a free port (as <see cref="TestAppHost"/>), with the embedded store,
/// a real redis-server or a real cluster. Production environment, so that an exception is a plain 500 on both
/// twins (the developer page would print the path). The client follows no redirects and keeps no cookies.
/// </summary>
public sealed class DiffHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IRedisDeployment? _ownedRedis;

    private DiffHost(WebApplication app, HttpClient client, IRedisDeployment? ownedRedis)
    {
        _app = app;
        Client = client;
        _ownedRedis = ownedRedis;
    }

    public HttpClient Client { get; }

    public DiffDb Db => _app.Services.GetRequiredService<DiffDb>();

    public static async Task<DiffHost> StartAsync(StoreKind store, IRedisDeployment? shared)
    {
        if (shared is not null)
        {
            await shared.FlushAsync();
        }

        IRedisDeployment? owned = shared is not null ? null : store switch
        {
            StoreKind.Redis => await RedisServer.StartAsync(),
            StoreKind.RedisCluster => await RedisCluster.StartAsync(),
            _ => null,
        };
        IRedisDeployment? redis = shared ?? owned;
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<DiffDb>();

        // An authentication scheme that authenticates nobody, so that Results.Forbid() answers 403 (not an exception).
        builder.Services.AddAuthentication(NobodyAuthenticationHandler.Name)
            .AddScheme<AuthenticationSchemeOptions, NobodyAuthenticationHandler>(NobodyAuthenticationHandler.Name, null);
        builder.Services.AddAttributeCaching(o =>
        {
            o.AddCacheStatusHeader = true;
            if (redis is not null)
            {
                o.UseRedis(redis.ConnectionString);
            }
        });

        WebApplication app = builder.Build();
        app.UseAttributeCaching();
        DiffEndpoints.Map(app);
        await app.StartAsync();
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(60) };
        return new DiffHost(app, client, owned);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownedRedis is not null)
        {
            await _ownedRedis.DisposeAsync();
        }
    }
}

/// <summary>Authenticates no one; forbids with a plain 403.</summary>
public sealed class NobodyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Name = "nobody";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
}
