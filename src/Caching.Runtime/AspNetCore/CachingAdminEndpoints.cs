using System.Buffers;
using System.Text.Json;
using Caching;
using Caching.Diagnostics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the cache's administration endpoints: statistics, invalidations and clear-all.</summary>
public static class CachingAdminEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps, under <paramref name="prefix"/>: <c>GET stats</c> (per key prefix: hits, misses, sets, invalidations,
    /// keys deleted; and whether the cache is enabled and its store reachable), <c>POST invalidate/keys?key=…</c>
    /// (repeatable), <c>POST invalidate/pattern?pattern=…</c> (a Redis glob, as typed), <c>POST
    /// invalidate/tag?tag=…</c>, <c>POST invalidate/namespace?namespace=…</c> and <c>POST clear</c>
    /// (<see cref="ICache.InvalidateAllAsync"/>). Answers are JSON (<c>{"deleted":n}</c>), never cached; a bad
    /// value is a 400 with the reason, an unreachable store a 503.
    /// </summary>
    /// <remarks>
    /// Every endpoint requires <paramref name="authorizationPolicy"/>, which must exist: these endpoints delete data
    /// and reveal key prefixes, so they refuse to be mapped open. The policy is checked again inside each endpoint, so
    /// that an <c>AllowAnonymous</c> on an enclosing group cannot open them. The POST endpoints also require the
    /// header <c>X-Cache-Admin: 1</c> (400 without it): a browser cannot send it across sites without a CORS
    /// preflight, so a cookie-authenticated admin cannot be made to clear the cache by another site's form.
    /// </remarks>
    /// <param name="endpoints">The application or a route group.</param>
    /// <param name="authorizationPolicy">The name of the authorization policy every endpoint requires.</param>
    /// <param name="prefix">The route prefix; default <c>/cache</c>.</param>
    /// <returns>The group, to add conventions to (rate limits, metadata).</returns>
    /// <exception cref="ArgumentException">No policy was named.</exception>
    /// <exception cref="InvalidOperationException">Authorization is not registered, or the policy does not exist.</exception>
    public static RouteGroupBuilder MapCachingAdmin(this IEndpointRouteBuilder endpoints, string authorizationPolicy, string prefix = "/cache")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (string.IsNullOrWhiteSpace(authorizationPolicy))
        {
            throw new ArgumentException("MapCachingAdmin needs the name of an authorization policy: its endpoints delete cache entries and must not be open. Add one with builder.Services.AddAuthorization(o => o.AddPolicy(\"CacheAdmin\", p => p.RequireRole(\"admin\"))) and pass its name.", nameof(authorizationPolicy));
        }

        EnsurePolicyExists(endpoints.ServiceProvider, authorizationPolicy);
        RouteGroupBuilder group = endpoints.MapGroup(prefix);
        group.RequireAuthorization(authorizationPolicy);
        group.MapGet("/stats", Guarded(authorizationPolicy, StatsAsync));
        group.MapPost("/invalidate/keys", GuardedPost(authorizationPolicy, http => InvalidateAsync(http, "key", static (cache, values, ct) => cache.InvalidateKeysAsync(values.ToArray()!, ct))));
        group.MapPost("/invalidate/pattern", GuardedPost(authorizationPolicy, http => InvalidateAsync(http, "pattern", static (cache, values, ct) => cache.InvalidatePatternAsync(values.ToString(), ct))));
        group.MapPost("/invalidate/tag", GuardedPost(authorizationPolicy, http => InvalidateAsync(http, "tag", static (cache, values, ct) => cache.InvalidateTagAsync(values.ToString(), ct))));
        group.MapPost("/invalidate/namespace", GuardedPost(authorizationPolicy, http => InvalidateAsync(http, "namespace", static async (cache, values, ct) =>
        {
            await cache.InvalidateNamespaceAsync(values.ToString(), ct).ConfigureAwait(false);
            return 0;
        })));
        group.MapPost("/clear", GuardedPost(authorizationPolicy, http => RunAsync(http, static (cache, ct) => cache.InvalidateAllAsync(ct))));
        return group;
    }

    private static void EnsurePolicyExists(IServiceProvider services, string name)
    {
        IAuthorizationPolicyProvider provider = services.GetService<IAuthorizationPolicyProvider>()
            ?? throw new InvalidOperationException("MapCachingAdmin requires authorization: call builder.Services.AddAuthorization(...) and define the policy '" + name + "'.");
        Task<AuthorizationPolicy?> policy = provider.GetPolicyAsync(name);

        // The default provider answers at once; a provider that looks policies up elsewhere is trusted (an unknown
        // policy then fails every request, never lets one through).
        if (policy.IsCompletedSuccessfully && policy.Result is null)
        {
            throw new InvalidOperationException("MapCachingAdmin requires the authorization policy '" + name + "', which is not defined: add it with builder.Services.AddAuthorization(o => o.AddPolicy(\"" + name + "\", ...)).");
        }
    }

    /// <summary>The header every admin POST must carry (any value): it forces a CORS preflight on cross-site browser requests.</summary>
    public const string RequiredHeader = "X-Cache-Admin";

    // The policy checked again in the endpoint itself: defence in depth against AllowAnonymous on an enclosing group.
    private static RequestDelegate Guarded(string policy, RequestDelegate inner) => async http =>
    {
        IAuthorizationService authorization = http.RequestServices.GetRequiredService<IAuthorizationService>();
        AuthorizationResult result = await authorization.AuthorizeAsync(http.User, policy).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            await WriteErrorAsync(http, http.User.Identity?.IsAuthenticated == true ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized, "The cache administration endpoints require the policy '" + policy + "'.").ConfigureAwait(false);
            return;
        }

        await inner(http).ConfigureAwait(false);
    };

    // A POST: the policy, and the header that a cross-site form cannot send.
    private static RequestDelegate GuardedPost(string policy, RequestDelegate inner) => Guarded(policy, http =>
        http.Request.Headers.ContainsKey(RequiredHeader)
            ? inner(http)
            : WriteErrorAsync(http, StatusCodes.Status400BadRequest, "Send the header " + RequiredHeader + ": 1 with administration requests (it keeps other sites' forms from posting here)."));

    private static Task StatsAsync(HttpContext http)
    {
        IServiceProvider services = http.RequestServices;
        CacheEngine engine = services.GetRequiredService<CacheEngine>();
        IReadOnlyList<KeyPrefixStatistics> prefixes = services.GetRequiredService<CacheStatistics>().Snapshot();
        return WriteJsonAsync(http, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean("enabled", engine.IsEnabled);
            writer.WriteString("store", engine.Store.Name);
            writer.WriteBoolean("storeSuspended", engine.IsStoreSuspended);
            writer.WriteStartArray("keyPrefixes");
            foreach (KeyPrefixStatistics prefix in prefixes)
            {
                writer.WriteStartObject();
                writer.WriteString("keyPrefix", prefix.KeyPrefix);
                writer.WriteNumber("hits", prefix.Hits);
                writer.WriteNumber("misses", prefix.Misses);
                writer.WriteNumber("hitRate", prefix.HitRate);
                writer.WriteNumber("sets", prefix.Sets);
                writer.WriteNumber("invalidations", prefix.Invalidations);
                writer.WriteNumber("keysDeleted", prefix.KeysDeleted);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    // One invalidation named by a query parameter: 400 when it is missing.
    private static Task InvalidateAsync(HttpContext http, string parameter, Func<ICache, StringValues, CancellationToken, ValueTask<long>> invalidate)
    {
        StringValues values = http.Request.Query[parameter];
        if (StringValues.IsNullOrEmpty(values) || (values.Count > 1 && parameter != "key"))
        {
            return WriteErrorAsync(http, StatusCodes.Status400BadRequest, parameter == "key"
                ? "Name the keys to invalidate: ?key=post:1&key=post:2."
                : $"Name exactly one {parameter} to invalidate: ?{parameter}=....");
        }

        return RunAsync(http, (cache, ct) => invalidate(cache, values, ct));
    }

    private static async Task RunAsync(HttpContext http, Func<ICache, CancellationToken, ValueTask<long>> action)
    {
        ICache cache = http.RequestServices.GetRequiredService<ICache>();
        long deleted;
        try
        {
            // Carried out to the end even if the caller goes away: a half-done invalidation leaves stale data.
            deleted = await action(cache, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            await WriteErrorAsync(http, StatusCodes.Status400BadRequest, ex.Message).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The store failed (down, refused the command, an ACL): the details go to the log, not to the caller.
            Log.AdminRequestFailed(http.RequestServices.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("Caching.Admin"), http.Request.Path, ex);
            await WriteErrorAsync(http, StatusCodes.Status503ServiceUnavailable, "The cache store could not carry out the request; see the application's log.").ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(http, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("deleted", deleted);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(HttpContext http, int status, string message)
        => WriteJsonAsync(http, status, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            writer.WriteEndObject();
        });

    private static async Task WriteJsonAsync(HttpContext http, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        await http.Response.Body.WriteAsync(buffer.WrittenMemory, http.RequestAborted).ConfigureAwait(false);
    }
}
