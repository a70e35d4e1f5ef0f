using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Primitives;

namespace Caching.AspNetCore;

/// <summary>
/// Wraps a data source of minimal-API endpoints so that each endpoint whose handler carries <c>[Cache]</c> gets
/// the caching filter registered in <see cref="MinimalApiCacheRegistry"/>. It builds the inner endpoints as a
/// route group with no prefix and one convention: group conventions run before the request delegate is made
/// (by the Request Delegate Generator's code or by RequestDelegateFactory), so the filter is part of it.
/// </summary>
internal sealed class CachingEndpointDataSource(EndpointDataSource inner, IServiceProvider services) : EndpointDataSource
{
    private static readonly RoutePattern NoPrefix = RoutePatternFactory.Parse(string.Empty);

    public EndpointDataSource Inner { get; } = inner;

    public override IReadOnlyList<Endpoint> Endpoints => Inner.GetGroupedEndpoints(new RouteGroupContext
    {
        Prefix = NoPrefix,
        Conventions = [AttachCachingFilter],
        FinallyConventions = [AttachHitPath],
        ApplicationServices = services,
    });

    public override IReadOnlyList<Endpoint> GetGroupedEndpoints(RouteGroupContext context) => Inner.GetGroupedEndpoints(new RouteGroupContext
    {
        Prefix = context.Prefix,
        Conventions = [AttachCachingFilter, .. context.Conventions],
        FinallyConventions = [.. context.FinallyConventions, AttachHitPath],
        ApplicationServices = context.ApplicationServices,
    });

    public override IChangeToken GetChangeToken() => Inner.GetChangeToken();

    /// <summary>Whether a data source has minimal-API endpoints with <c>[Cache]</c>, the only ones worth wrapping.</summary>
    public static bool HasCachedHandlers(EndpointDataSource dataSource)
        => dataSource.Endpoints.Any(static e => e.Metadata.GetMetadata<MethodInfo>() is not null && e.Metadata.GetMetadata<CacheAttribute>() is not null);

    // Runs before the handler's attributes are added to the metadata, so the handler method (always the first
    // metadata of a route handler) is asked: a metadata read at start-up, nothing per request. Endpoints without
    // [Cache] get no filter, so they keep the unfiltered request delegate.
    private static void AttachCachingFilter(EndpointBuilder builder)
    {
        if (builder.Metadata.OfType<MethodInfo>().FirstOrDefault() is not { } handler || !handler.IsDefined(typeof(CacheAttribute), inherit: false))
        {
            return;
        }

        // First of the filters, as in the intercepted mode: the app's filters (on the endpoint or its groups) run
        // after it on every request, hits included (on a hit the handler is not called).
        builder.FilterFactories.Insert(0, (context, next) =>
        {
            // Filter factories run once the metadata is complete: the attribute instance says where it was written.
            CacheAttribute? attribute = builder.Metadata.OfType<CacheAttribute>().LastOrDefault();
            return attribute is not null && MinimalApiCacheRegistry.TryGet(handler, attribute, out var registration)
                ? registration.CreateFilter(context, next)
                : next; // intercepted at build time instead (the Request Delegate Generator was off): already filtered
        });
    }

    // Runs once the request delegate exists: hits are then answered before binding.
    private static void AttachHitPath(EndpointBuilder builder)
    {
        if (builder.Metadata.OfType<MethodInfo>().FirstOrDefault() is { } handler
            && builder.Metadata.OfType<CacheAttribute>().LastOrDefault() is { } attribute
            && MinimalApiCacheRegistry.TryGet(handler, attribute, out var registration))
        {
            registration.AddHitPath?.Invoke(builder);
        }
    }
}
