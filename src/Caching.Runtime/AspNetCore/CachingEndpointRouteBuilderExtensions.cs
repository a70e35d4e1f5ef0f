using Caching.AspNetCore;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Attaches <c>[Cache]</c> to minimal-API endpoints that the generator could not intercept.</summary>
public static class CachingEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Attaches the generated caching code to the application's <c>[Cache]</c> minimal-API endpoints when ASP.NET
    /// Core's Request Delegate Generator is on (<c>PublishAot</c>, <c>PublishTrimmed</c> or
    /// <c>EnableRequestDelegateGenerator</c>), which intercepts the <c>Map*</c> calls itself. Without it the
    /// generator intercepts those calls and this does nothing, so one <c>Program.cs</c> serves both modes.
    /// </summary>
    /// <remarks>
    /// Call it once, after <c>builder.Build()</c>. The endpoints are wrapped when the request pipeline is built,
    /// after every <c>Map*</c> call; if you call <c>app.UseRouting()</c> yourself, call this after it. The caching
    /// filters run inside the endpoint, after authorization, as in the intercepted mode.
    /// </remarks>
    /// <typeparam name="TApplication">The application: a <see cref="WebApplication"/>.</typeparam>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static TApplication UseAttributeCaching<TApplication>(this TApplication app)
        where TApplication : IApplicationBuilder, IEndpointRouteBuilder
    {
        ArgumentNullException.ThrowIfNull(app);
        ICollection<EndpointDataSource> dataSources = app.DataSources;
        IServiceProvider services = app.ServiceProvider;

        // The pipeline is built after Program.cs has mapped everything and before routing takes its copy of the
        // data sources (routing's middleware is made after the pipeline it wraps).
        app.Use(next =>
        {
            WrapCachedDataSources(dataSources, services);
            return next;
        });
        return app;
    }

    private static void WrapCachedDataSources(ICollection<EndpointDataSource> dataSources, IServiceProvider services)
    {
        if (MinimalApiCacheRegistry.IsEmpty)
        {
            return; // the generator intercepted the Map* calls: nothing to attach
        }

        EndpointDataSource[] current = dataSources.ToArray();
        if (!current.Any(static s => s is not CachingEndpointDataSource && CachingEndpointDataSource.HasCachedHandlers(s)))
        {
            return;
        }

        dataSources.Clear();
        foreach (EndpointDataSource source in current)
        {
            dataSources.Add(source is not CachingEndpointDataSource && CachingEndpointDataSource.HasCachedHandlers(source)
                ? new CachingEndpointDataSource(source, services)
                : source);
        }
    }
}
