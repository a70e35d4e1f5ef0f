using Caching;
using Caching.AspNetCore;
using Caching.Diagnostics;
using Caching.Hosting;
using Caching.Stores;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the caching runtime.</summary>
public static class CachingServiceCollectionExtensions
{
    /// <summary>
    /// Adds attribute caching: the store (in-process by default, Redis when <c>Caching:Redis</c> or
    /// <see cref="CachingOptions.UseRedis(string)"/> says so), <see cref="ICache"/>, a
    /// <c>Microsoft.Extensions.Caching.Hybrid.HybridCache</c> over the same entries (unless one is already registered),
    /// metrics and logging.
    /// Options bind from the <c>Caching</c> configuration section, then <paramref name="configure"/> runs, and
    /// the result is validated at start-up.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, such as <c>o =&gt; o.UseRedis("127.0.0.1:6379")</c>.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddAttributeCaching(this IServiceCollection services, Action<global::Caching.CachingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        OptionsBuilder<global::Caching.CachingOptions> options = services.AddOptions<global::Caching.CachingOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<global::Caching.CachingOptions>, CachingOptionsConfiguration>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsChangeTokenSource<global::Caching.CachingOptions>, CachingOptionsChangeTokenSource>());
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<global::Caching.CachingOptions>, CachingOptionsValidator>());

        services.AddMetrics();
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CachingMetrics>();
        services.TryAddSingleton<CacheStatistics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, CacheStatisticsStarter>());
        services.TryAddSingleton<ICacheStore>(CacheStoreFactory.Create);
        services.TryAddSingleton(static provider => new CachingSwitch(provider.GetRequiredService<IOptionsMonitor<global::Caching.CachingOptions>>()));
        services.TryAddSingleton(static provider => new CacheEngine(
            provider.GetRequiredService<ICacheStore>(),
            provider.GetRequiredService<IOptions<global::Caching.CachingOptions>>(),
            provider.GetRequiredService<CachingMetrics>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<CacheEngine>>(),
            provider.GetRequiredService<TimeProvider>())
        {
            Switch = provider.GetRequiredService<CachingSwitch>(),
        });
        services.TryAddSingleton<ReadThrough>();
        services.TryAddSingleton<ICache, DefaultCache>();

        // HybridCache over the same engine, unless the app registered its own first (it then keeps it; a warning at
        // start-up says its entries are outside [Cache] invalidations). AddHybridCache() called afterwards uses
        // TryAdd too, so this one stays.
        services.TryAddSingleton<global::Caching.Hybrid.HybridSerializers>();
        services.TryAddSingleton<Microsoft.Extensions.Caching.Hybrid.HybridCache, global::Caching.Hybrid.EngineHybridCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, global::Caching.Hybrid.HybridCacheRegistrationCheck>());
        services.TryAddSingleton<PendingInvalidations>();
        services.TryAddSingleton(static provider => new EndpointCacheRuntime(
            provider.GetRequiredService<ReadThrough>(),
            provider.GetRequiredService<IOptions<global::Caching.CachingOptions>>(),
            provider.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>(),
            provider.GetRequiredService<IOptions<Microsoft.AspNetCore.Mvc.JsonOptions>>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<EndpointCacheRuntime>>(),
            provider.GetRequiredService<PendingInvalidations>(),
            provider.GetRequiredService<TimeProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Transient<IConfigureOptions<Microsoft.AspNetCore.Mvc.MvcOptions>, CachingMvcOptionsSetup>());
        return services;
    }
}
