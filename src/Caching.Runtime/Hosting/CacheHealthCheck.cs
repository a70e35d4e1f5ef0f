using Caching.AspNetCore;
using Caching.Stores;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Caching.Hosting;

/// <summary>
/// Reports the cache store's state: healthy; degraded while invalidations missed during an outage wait to be
/// replayed (reads bypass the cache meanwhile) or while some Redis nodes are down (their keys bypass the cache);
/// unhealthy while the circuit breaker suspends store calls or no Redis node can be reached. The app keeps answering
/// in every state: the cache fails open.
/// </summary>
public sealed class CacheHealthCheck(CacheEngine engine, PendingInvalidations pending) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["store"] = engine.Store.Name,
            ["consecutiveFailures"] = engine.ConsecutiveStoreFailures,
            ["pendingInvalidations"] = pending.Count,
            ["flushOnRecovery"] = pending.Overflowed,
        };
        var availability = engine.Store as IStoreAvailability;
        HealthCheckResult result = engine.IsStoreSuspended || availability is { IsUnavailable: true }
            ? HealthCheckResult.Unhealthy("The cache store is failing; requests are served without the cache.", data: data)
            : pending.HasPending
                ? HealthCheckResult.Degraded("Invalidations missed during an outage are being replayed; reads bypass the cache until then.", data: data)
                : availability is { IsFullyAvailable: false }
                    ? HealthCheckResult.Degraded("Some cache store nodes are down; their keys are served without the cache.", data: data)
                    : HealthCheckResult.Healthy("The cache store answers.", data);
        return Task.FromResult(result);
    }
}
