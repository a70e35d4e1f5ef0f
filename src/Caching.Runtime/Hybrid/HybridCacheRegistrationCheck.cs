using Caching.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Caching.Hybrid;

/// <summary>
/// Warns at start-up when the application's <see cref="HybridCache"/> is not attribute caching's (the app registered
/// another one, for example by calling <c>AddHybridCache()</c> before <c>AddAttributeCaching()</c>): its entries are
/// then invisible to <c>[Cache]</c> writes and <see cref="ICache"/> invalidations, which is easy to miss.
/// </summary>
internal sealed class HybridCacheRegistrationCheck(IServiceProvider services, ILogger<HybridCacheRegistrationCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<HybridCache>() is { } hybrid and not EngineHybridCache)
        {
            Log.ForeignHybridCache(logger, hybrid.GetType().FullName ?? hybrid.GetType().Name);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
