using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Primitives;

namespace Caching.AspNetCore;

/// <summary>Where a value a key is formed from comes from, as the parameter binder decides it.</summary>
public enum RequestValueSource
{
    /// <summary>No <c>[From*]</c> attribute: the route when the route pattern has the name, else the query string.</summary>
    Inferred,

    /// <summary><c>[FromRoute]</c>.</summary>
    Route,

    /// <summary><c>[FromQuery]</c>.</summary>
    Query,
}

/// <summary>One request value a key is formed from: its name and where the binder reads it.</summary>
/// <param name="Name">The route or query name.</param>
/// <param name="Source">Where it comes from.</param>
public readonly record struct RequestValue(string Name, RequestValueSource Source);

/// <summary>
/// The request values one endpoint's key is formed from, resolved against the endpoint's route pattern once, so
/// that a key can be formed from the request before the handler's parameters are bound.
/// </summary>
public sealed class RequestValues
{
    private readonly string[] _names;
    private readonly bool[] _fromRoute;

    internal RequestValues(IReadOnlyList<RequestValue> values, RoutePattern pattern)
    {
        _names = new string[values.Count];
        _fromRoute = new bool[values.Count];
        for (int i = 0; i < values.Count; i++)
        {
            _names[i] = values[i].Name;
            _fromRoute[i] = values[i].Source == RequestValueSource.Route
                || (values[i].Source == RequestValueSource.Inferred && pattern.GetParameter(values[i].Name) is not null);
        }
    }

    /// <summary>
    /// Reads value <paramref name="index"/> as text. Absent, empty or repeated values are not read: the request
    /// then takes the usual path, where the binder decides (a default, or a 400).
    /// </summary>
    /// <param name="http">The request's context.</param>
    /// <param name="index">The value's position in the list the endpoint was described with.</param>
    /// <param name="text">The value's text.</param>
    /// <returns>Whether the value is there exactly once and not empty.</returns>
    public bool TryGet(HttpContext http, int index, [NotNullWhen(true)] out string? text)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (_fromRoute[index])
        {
            text = http.Request.RouteValues.TryGetValue(_names[index], out object? value) ? value?.ToString() : null;
        }
        else
        {
            text = http.Request.Query.TryGetValue(_names[index], out StringValues values) && values.Count == 1 ? values[0] : null;
        }

        return !string.IsNullOrEmpty(text);
    }
}

/// <summary>
/// Answers the hits of a cached GET before the handler's parameters are bound (no scoped services created, no
/// argument parsing, no filter pipeline), from a key the generated code forms from the route and query values.
/// Misses, and requests whose key cannot be formed that way, take the usual path through the caching filter.
/// </summary>
public static class EndpointHitPath
{
    /// <summary>
    /// Wraps the endpoint's request delegate with the hit path. Called by generated code as a "finally"
    /// convention, once the request delegate exists. Only endpoints without filters of the app's own get it:
    /// the app's endpoint filters (access checks, validation) run on every request, hits included, so an
    /// endpoint that has any is answered through the caching filter, after them.
    /// </summary>
    /// <param name="builder">The endpoint being built.</param>
    /// <param name="endpoint">The endpoint's settings.</param>
    /// <param name="values">The request values the key is formed from.</param>
    /// <param name="formKey">Forms the key from the request, or returns <see langword="null"/> when it cannot.</param>
    public static void Add(EndpointBuilder builder, CachedEndpointInfo endpoint, RequestValue[] values, Func<HttpContext, RequestValues, string?> formKey)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(formKey);
        if (builder is not RouteEndpointBuilder route || builder.RequestDelegate is not { } inner || builder.FilterFactories.Count > 1)
        {
            return;
        }

        EndpointCacheRuntime cache = EndpointCacheRuntime.Resolve(builder.ApplicationServices);
        var resolved = new RequestValues(values, route.RoutePattern);
        builder.RequestDelegate = http => cache.ServeHitOrNextAsync(http, inner, endpoint, resolved, formKey);
    }
}
