using Caching.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the cache store's health check.</summary>
public static class CachingHealthChecksBuilderExtensions
{
    /// <summary>Adds <see cref="CacheHealthCheck"/> under <paramref name="name"/>.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddCaching(this IHealthChecksBuilder builder, string name = "caching")
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<CacheHealthCheck>(name, HealthStatus.Unhealthy, ["cache"]);
    }
}
