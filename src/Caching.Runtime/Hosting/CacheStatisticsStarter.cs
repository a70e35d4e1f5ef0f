using Caching.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace Caching.Hosting;

/// <summary>Creates <see cref="CacheStatistics"/> when the host starts, so it counts from the first request.</summary>
internal sealed class CacheStatisticsStarter(CacheStatistics statistics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(statistics);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
