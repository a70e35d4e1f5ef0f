using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Caching.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using MvcJsonOptions = Microsoft.AspNetCore.Mvc.JsonOptions;

namespace Caching.AspNetCore;

/// <summary>
/// What generated endpoint filters and action filters call: read-through on GET, invalidate (or write through)
/// after a successful write. Registered by <c>AddAttributeCaching</c>.
/// </summary>
/// <remarks>
/// The cache never breaks a request: if the store fails, reads run the handler and writes log the failed
/// invalidation (see the log and the <c>caching.invalidations</c> metric).
/// </remarks>
public sealed class EndpointCacheRuntime
{
    private const string CacheStatusHeader = "X-Cache";

    // HttpContext.Items key: the hit path read this endpoint's key and found nothing (the value is the endpoint).
    private static readonly object PeekedMissItem = new();

    private readonly CacheEngine _engine;
    private readonly ILogger _logger;
    private readonly bool _addStatusHeader;
    private readonly IOptions<HttpJsonOptions> _httpJson;
    private readonly IOptions<MvcJsonOptions> _mvcJson;
    private readonly MissCoalescer? _coalescer;
    private readonly PendingInvalidations _pending;
    private readonly bool _waitForLeaseHolder;
    private readonly TimeSpan _leaseWait;

    /// <summary>Creates the runtime.</summary>
    /// <param name="engine">The cache engine.</param>
    /// <param name="options">The caching options.</param>
    /// <param name="httpJson">Minimal APIs' JSON options.</param>
    /// <param name="mvcJson">MVC's JSON options.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="pending">Failed invalidations waiting for the store.</param>
    public EndpointCacheRuntime(CacheEngine engine, IOptions<CachingOptions> options, IOptions<HttpJsonOptions> httpJson, IOptions<MvcJsonOptions> mvcJson, ILogger<EndpointCacheRuntime> logger, PendingInvalidations pending)
    {
        ArgumentNullException.ThrowIfNull(options);
        _engine = engine;
        _logger = logger;
        _addStatusHeader = options.Value.AddCacheStatusHeader;
        _httpJson = httpJson;
        _mvcJson = mvcJson;
        _pending = pending;
        _waitForLeaseHolder = options.Value.DistributedStampedeProtection;
        _leaseWait = options.Value.CoalescingTimeout;
        _coalescer = options.Value.CoalesceMisses ? new MissCoalescer(options.Value.CoalescingTimeout) : null;
    }

    /// <summary>The engine behind the runtime.</summary>
    public CacheEngine Engine => _engine;

    /// <summary>Returns the runtime registered in <paramref name="services"/>, with a clear error when caching was not added.</summary>
    /// <param name="services">The application's services.</param>
    /// <returns>The runtime.</returns>
    public static EndpointCacheRuntime Resolve(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetService<EndpointCacheRuntime>()
            ?? throw new InvalidOperationException("An endpoint carries [Cache] but caching is not registered: call builder.Services.AddAttributeCaching() in Program.cs.");
    }

    /// <summary>GET on a minimal-API endpoint: serve the stored response, or run the handler and store its value.</summary>
    /// <typeparam name="T">The handler's value type.</typeparam>
    /// <param name="context">The filter invocation.</param>
    /// <param name="next">The handler.</param>
    /// <param name="endpoint">The endpoint's settings.</param>
    /// <param name="key">The formatted key.</param>
    /// <param name="namespaceName">The entry's namespace, or <see langword="null"/>.</param>
    /// <param name="tags">The entry's tags, or <see langword="null"/>.</param>
    /// <returns>The response.</returns>
    public async ValueTask<object?> ReadThroughAsync<T>(EndpointFilterInvocationContext context, EndpointFilterDelegate next, CachedEndpointInfo endpoint, string key, string? namespaceName = null, string[]? tags = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(endpoint);
        HttpContext http = context.HttpContext;
        if (!Scope(http, endpoint, ref key, ref tags))
        {
            // Credentials: the response may be this user's own; it is neither read from nor written to the cache.
            return await next(context).ConfigureAwait(false);
        }

        bool peekedMiss = http.Items.TryGetValue(PeekedMissItem, out object? peeked) && ReferenceEquals(peeked, endpoint) && namespaceName is null && tags is null;
        MissPlan plan = await PlanAsync(key, namespaceName, tags, endpoint, http.RequestAborted, peekedMiss).ConfigureAwait(false);
        if (plan.Served is { } stored)
        {
            SetStatusHeader(http, hit: true);
            return new CachedResponse(stored, endpoint.ContentType);
        }

        CacheLookup? lookup = plan.Lookup;
        TaskCompletionSource<byte[]?>? lease = plan.Lead;
        SetStatusHeader(http, hit: false);
        byte[]? body = null;
        try
        {
            object? result = await next(context).ConfigureAwait(false);
            if (lookup is null || !TryGetValue(result, http, readOnly: true, out T? value))
            {
                return result;
            }

            byte[] serialized = Serialize(value, endpoint, _httpJson.Value.SerializerOptions);
            if (await TryStoreAsync(key, serialized, endpoint, namespaceName, tags, lookup, http.RequestAborted).ConfigureAwait(false))
            {
                body = serialized;
            }

            return new CachedResponse(serialized, endpoint.ContentType);
        }
        finally
        {
            if (lease is not null)
            {
                _coalescer!.Complete(key, lease, body);
            }

            if (body is null && lookup is { HoldsLease: true } held)
            {
                await TryReleaseLeaseAsync(key, held).ConfigureAwait(false);
            }
        }
    }

    /// <summary>POST, PUT, PATCH or DELETE on a minimal-API endpoint: run the handler, then, only if it succeeded, invalidate.</summary>
    /// <typeparam name="T">The handler's value type, for write-through.</typeparam>
    /// <param name="context">The filter invocation.</param>
    /// <param name="next">The handler.</param>
    /// <param name="endpoint">The endpoint's settings.</param>
    /// <param name="invalidations">Builds the keys, patterns, tags and namespaces from the arguments; they are checked before the handler runs and carried out only on success.</param>
    /// <returns>The handler's result.</returns>
    public async ValueTask<object?> WriteAsync<T>(EndpointFilterInvocationContext context, EndpointFilterDelegate next, CachedEndpointInfo endpoint, Func<EndpointFilterInvocationContext, InvalidationSet> invalidations)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(invalidations);

        // Formed and checked before the handler runs: a write whose invalidations cannot be carried out is
        // refused, never performed with stale entries left behind.
        InvalidationSet set = invalidations(context);
        if (Validate(set) is { } problem)
        {
            return TypedResults.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "The request's cache keys are not valid");
        }

        object? result = await next(context).ConfigureAwait(false);
        HttpContext http = context.HttpContext;
        if (!IsSuccess(result, http.Response.StatusCode))
        {
            return result;
        }

        byte[]? writeThrough = endpoint.WriteThrough && TryGetValue(result, http, readOnly: false, out T? value)
            ? Serialize(value, endpoint, _httpJson.Value.SerializerOptions)
            : null;
        await InvalidateAsync(set, writeThrough, endpoint, http.RequestAborted).ConfigureAwait(false);
        return result;
    }

    /// <summary>GET on a controller action: serve the stored response, or run the action and store its value.</summary>
    /// <typeparam name="T">The action's value type.</typeparam>
    /// <param name="context">The action filter context.</param>
    /// <param name="next">The action.</param>
    /// <param name="endpoint">The endpoint's settings.</param>
    /// <param name="key">The formatted key.</param>
    /// <param name="namespaceName">The entry's namespace, or <see langword="null"/>.</param>
    /// <param name="tags">The entry's tags, or <see langword="null"/>.</param>
    /// <returns>A task that completes when the action ran or the stored response was chosen.</returns>
    public async Task ReadThroughActionAsync<T>(ActionExecutingContext context, ActionExecutionDelegate next, CachedEndpointInfo endpoint, string key, string? namespaceName = null, string[]? tags = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(endpoint);
        HttpContext http = context.HttpContext;
        if (!Scope(http, endpoint, ref key, ref tags))
        {
            await next().ConfigureAwait(false);
            return;
        }

        MissPlan plan = await PlanAsync(key, namespaceName, tags, endpoint, http.RequestAborted).ConfigureAwait(false);
        if (plan.Served is { } stored)
        {
            SetStatusHeader(http, hit: true);
            context.Result = new CachedResponse(stored, CachedEndpointInfo.JsonContentType);
            return;
        }

        CacheLookup? lookup = plan.Lookup;
        TaskCompletionSource<byte[]?>? lease = plan.Lead;
        SetStatusHeader(http, hit: false);
        byte[]? body = null;
        try
        {
            ActionExecutedContext executed = await next().ConfigureAwait(false);
            if (lookup is null || executed.Exception is not null || !TryGetActionValue(executed.Result, readOnly: true, out T? value))
            {
                return;
            }

            byte[] serialized = JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>(_mvcJson.Value.JsonSerializerOptions));
            if (await TryStoreAsync(key, serialized, endpoint, namespaceName, tags, lookup, http.RequestAborted).ConfigureAwait(false))
            {
                body = serialized;
            }
        }
        finally
        {
            if (lease is not null)
            {
                _coalescer!.Complete(key, lease, body);
            }

            if (body is null && lookup is { HoldsLease: true } held)
            {
                await TryReleaseLeaseAsync(key, held).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A write on a controller action: run it, then, only if it succeeded, invalidate.</summary>
    /// <typeparam name="T">The action's value type, for write-through.</typeparam>
    /// <param name="context">The action filter context.</param>
    /// <param name="next">The action.</param>
    /// <param name="endpoint">The endpoint's settings.</param>
    /// <param name="invalidations">Builds the keys, patterns, tags and namespaces from the arguments; they are checked before the handler runs and carried out only on success.</param>
    /// <returns>A task that completes when the action ran and the invalidations are done.</returns>
    public async Task WriteActionAsync<T>(ActionExecutingContext context, ActionExecutionDelegate next, CachedEndpointInfo endpoint, Func<ActionExecutingContext, InvalidationSet> invalidations)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(invalidations);
        InvalidationSet set = invalidations(context);
        if (Validate(set) is { } problem)
        {
            context.Result = new ObjectResult(new ProblemDetails { Status = StatusCodes.Status400BadRequest, Title = "The request's cache keys are not valid", Detail = problem }) { StatusCode = StatusCodes.Status400BadRequest };
            return;
        }

        ActionExecutedContext executed = await next().ConfigureAwait(false);
        if ((executed.Exception is not null && !executed.ExceptionHandled) || !IsActionSuccess(executed.Result, context.HttpContext.Response.StatusCode))
        {
            return;
        }

        byte[]? writeThrough = endpoint.WriteThrough && TryGetActionValue(executed.Result, readOnly: false, out T? value)
            ? JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>(_mvcJson.Value.JsonSerializerOptions))
            : null;
        await InvalidateAsync(set, writeThrough, endpoint, context.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    // The hit path: a GET whose key the request's values form is answered from the cache before binding; anything
    // else (a miss, a store failure, a key that cannot be formed, credentials) takes the usual path.
    internal Task ServeHitOrNextAsync(HttpContext http, RequestDelegate inner, CachedEndpointInfo endpoint, RequestValues values, Func<HttpContext, RequestValues, string?> formKey)
    {
        string method = http.Request.Method;
        if (!(HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) || formKey(http, values) is not { } key)
        {
            return inner(http);
        }

        string[]? tags = null;
        if (!Scope(http, endpoint, ref key, ref tags))
        {
            return inner(http);
        }

        ValueTask<(ReadOnlyMemory<byte>? Value, bool Missed)> peek = PeekAsync(key, endpoint, http.RequestAborted);
        if (peek.IsCompletedSuccessfully)
        {
            return peek.Result.Value is { } body ? WriteHitAsync(http, endpoint, body) : Miss(http, inner, endpoint, peek.Result.Missed);
        }

        return AwaitPeekAsync(peek, http, inner, endpoint);
    }

    private async Task AwaitPeekAsync(ValueTask<(ReadOnlyMemory<byte>? Value, bool Missed)> peek, HttpContext http, RequestDelegate inner, CachedEndpointInfo endpoint)
    {
        (ReadOnlyMemory<byte>? value, bool missed) = await peek.ConfigureAwait(false);
        if (value is { } body)
        {
            await WriteHitAsync(http, endpoint, body).ConfigureAwait(false);
        }
        else
        {
            await Miss(http, inner, endpoint, missed).ConfigureAwait(false);
        }
    }

    // The usual path; after a plain miss (not a lease, not a failure) the filter need not read the key again.
    private static Task Miss(HttpContext http, RequestDelegate inner, CachedEndpointInfo endpoint, bool missed)
    {
        if (missed)
        {
            http.Items[PeekedMissItem] = endpoint;
        }

        return inner(http);
    }

    // A look that takes no lease and counts no miss: a miss is counted by the filter, which then loads the key.
    private async ValueTask<(ReadOnlyMemory<byte>? Value, bool Missed)> PeekAsync(string key, CachedEndpointInfo endpoint, CancellationToken cancellationToken)
    {
        try
        {
            CacheLookup lookup = await _engine.GetAsync(key, endpoint.ReadOptions, takeLease: false, countMiss: false, cancellationToken).ConfigureAwait(false);
            return (lookup.Value, lookup.IsAbsent);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            return (null, false); // the filter's lookup reports it
        }
    }

    private Task WriteHitAsync(HttpContext http, CachedEndpointInfo endpoint, ReadOnlyMemory<byte> body)
    {
        SetStatusHeader(http, hit: true);
        return CachedResponse.WriteAsync(http, body, endpoint.ContentType);
    }

    // Decides whose entry a read uses. Without VaryByUser, requests with credentials bypass the cache; with it,
    // the user's id is added to the key (and the entry filed under "vary:{key}", which invalidating the key clears).
    private static bool Scope(HttpContext http, CachedEndpointInfo endpoint, ref string key, ref string[]? tags)
    {
        if (!endpoint.VaryByUser)
        {
            return !IsPersonal(http);
        }

        string? user = UserId(http);
        if (user is null && IsPersonal(http))
        {
            // Credentials the app did not turn into a user id: whose they are is unknown.
            return false;
        }

        string variant = key + CacheEngine.UserSeparator + Keys.KeyEncoding.Encode(user);
        tags = [.. tags ?? [], CacheEngine.VariantTag(key)];
        key = variant;
        return true;
    }

    private static string? UserId(HttpContext http)
    {
        System.Security.Claims.ClaimsPrincipal user = http.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        return user.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value ?? user.FindFirst("sub")?.Value ?? user.Identity.Name;
    }

    /// <summary>
    /// Whether a request carries credentials (an Authorization header, or an authenticated user): its response
    /// may be personal, so, as ASP.NET Core output caching does, it is not cached.
    /// </summary>
    /// <param name="http">The request's context.</param>
    /// <returns><see langword="true"/> when the cache must stay out of this request.</returns>
    public static bool IsPersonal(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        // The authentication feature's user, not HttpContext.User: without authentication that getter makes an empty
        // principal on every request, and this runs on every hit.
        return http.Request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.Authorization)
            || http.Features.Get<Microsoft.AspNetCore.Http.Features.Authentication.IHttpAuthenticationFeature>()?.User?.Identity?.IsAuthenticated == true;
    }

    /// <summary>Whether a minimal-API result is a success: a 2xx status.</summary>
    /// <param name="result">What the handler returned.</param>
    /// <param name="responseStatus">The response's status code, for results that carry none.</param>
    /// <returns><see langword="true"/> for 2xx.</returns>
    public static bool IsSuccess(object? result, int responseStatus)
    {
        object? inner = result is INestedHttpResult nested ? nested.Result : result;
        int status = inner is IStatusCodeHttpResult { StatusCode: int code } ? code : responseStatus;
        return status is >= 200 and < 300;
    }

    // Every key, pattern, tag and namespace of the set, checked as the engine will check them.
    private string? Validate(InvalidationSet set)
    {
        try
        {
            _engine.ValidateKey(set.OwnKey);
            foreach (string key in set.Keys ?? [])
            {
                _engine.ValidateKey(key);
            }

            foreach (string pattern in set.Patterns ?? [])
            {
                _engine.ValidatePattern(pattern);
            }

            foreach (string tag in (set.Tags ?? []).Concat(set.EntryTags ?? []))
            {
                _engine.ValidateName(tag, "tag", nameof(set));
            }

            foreach (string space in (set.Namespaces ?? []).Append(set.EntryNamespace).OfType<string>())
            {
                _engine.ValidateName(space, "namespace", nameof(set));
            }

            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    private static bool IsActionSuccess(IActionResult? result, int responseStatus)
    {
        int status = result is IStatusCodeActionResult { StatusCode: int code } ? code : responseStatus;
        return status is >= 200 and < 300;
    }

    // A value worth caching: the handler's own T (the response is a 200), or the value of a 200 (reads) or 2xx
    // (writes) typed result such as Ok<T>, also inside Results<...>.
    private static bool TryGetValue<T>(object? result, HttpContext http, bool readOnly, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value)
    {
        object? inner = result is INestedHttpResult nested ? nested.Result : result;
        int status;
        if (inner is IValueHttpResult<T> typed)
        {
            value = typed.Value;
            status = inner is IStatusCodeHttpResult { StatusCode: int code } ? code : StatusCodes.Status200OK;
        }
        else if (inner is T plain && inner is not IResult)
        {
            value = plain;
            status = http.Response.StatusCode;
        }
        else
        {
            value = default;
            return false;
        }

        return value is not null && (readOnly ? status == StatusCodes.Status200OK : status is >= 200 and < 300);
    }

    private static bool TryGetActionValue<T>(IActionResult? result, bool readOnly, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value)
    {
        if (result is ObjectResult { Value: T typed } objectResult)
        {
            int status = objectResult.StatusCode ?? StatusCodes.Status200OK;
            value = typed;
            return readOnly ? status == StatusCodes.Status200OK : status is >= 200 and < 300;
        }

        value = default;
        return false;
    }

    private static byte[] Serialize<T>(T value, CachedEndpointInfo endpoint, JsonSerializerOptions options)
    {
        if (endpoint.WritesText && value is string text)
        {
            return Encoding.UTF8.GetBytes(text);
        }

        return JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>(options));
    }

    // Through the options: honours source-generated JsonSerializerContexts and stays trim-safe.
    private static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));

    private async ValueTask<CacheLookup?> TryLookupAsync(string key, string? namespaceName, string[]? tags, CachedEndpointInfo endpoint, bool takeLease, bool countMiss, CancellationToken cancellationToken)
    {
        try
        {
            CacheEntryOptions entry = namespaceName is null && tags is null
                ? endpoint.ReadOptions
                : new CacheEntryOptions { Namespace = namespaceName, Tags = tags, Expiration = endpoint.Expiration, KeyPrefix = endpoint.KeyPrefixTemplate };
            return await _engine.GetAsync(key, entry, takeLease, countMiss, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            // A key this request cannot use (too long, say): the handler answers, uncached.
            Log.KeyNotCacheable(_logger, key.Length > 64 ? key[..64] : key, ex.Message);
            return null;
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            // Fail open: the handler answers; nothing is stored, since the store's state is unknown.
            Log.StoreReadFailed(_logger, key, ex);
            return null;
        }
    }

    // How a read proceeds: served from the cache (a hit, or what another request just stored), or loaded by the
    // handler, storing the value only with a lookup that allows it (the in-process leader holding the key's lease).
    private readonly record struct MissPlan(ReadOnlyMemory<byte>? Served, CacheLookup? Lookup, TaskCompletionSource<byte[]?>? Lead);

    private async ValueTask<MissPlan> PlanAsync(string key, string? namespaceName, string[]? tags, CachedEndpointInfo endpoint, CancellationToken cancellationToken, bool peekedMiss = false)
    {
        // Hits cost one read and nothing else; without in-process coalescing that read also takes the lease. When
        // the hit path has just read the key and missed, that first read is not repeated: the leader reads again
        // below anyway, taking the lease.
        CacheLookup? lookup = peekedMiss && _coalescer is not null
            ? new CacheLookup(null, null, null)
            : await TryLookupAsync(key, namespaceName, tags, endpoint, takeLease: _coalescer is null, countMiss: _coalescer is null, cancellationToken).ConfigureAwait(false);
        if (lookup is { Value: { } hit })
        {
            return new MissPlan(hit, null, null);
        }

        TaskCompletionSource<byte[]?>? lead = null;
        if (lookup is not null && _coalescer is not null)
        {
            lead = _coalescer.TryLead(key, _engine.InvalidationEpoch, out Task<byte[]?>? leader);
            if (lead is null)
            {
                // Another request of this process loads the key: take its bytes; if none come, run the handler
                // without storing (only the leader holds the lease).
                byte[]? shared = leader is null ? null : await _coalescer.FollowAsync(leader, cancellationToken).ConfigureAwait(false);
                _engine.RecordLookup(shared is not null, endpoint.KeyPrefixTemplate);
                return new MissPlan(shared, null, null);
            }

            try
            {
                // The leader reads again, taking the lease: the key may have been filled since the first read.
                lookup = await TryLookupAsync(key, namespaceName, tags, endpoint, takeLease: true, countMiss: true, cancellationToken).ConfigureAwait(false);
                if (lookup is { Value: { } filled })
                {
                    _coalescer.Complete(key, lead, filled.ToArray());
                    return new MissPlan(filled, null, null);
                }

                if (lookup is { LeasedByOther: true } && _waitForLeaseHolder && await TryWaitForLeaseHolderAsync(key, endpoint, cancellationToken).ConfigureAwait(false) is { } waited)
                {
                    _coalescer.Complete(key, lead, waited.ToArray());
                    return new MissPlan(waited, null, null);
                }
            }
            catch
            {
                // Aborted: free the key for the next request, and give back the lease if one was taken.
                _coalescer.Complete(key, lead, null);
                if (lookup is { HoldsLease: true } held)
                {
                    await TryReleaseLeaseAsync(key, held).ConfigureAwait(false);
                }

                throw;
            }

            return new MissPlan(null, lookup, lead);
        }

        if (lookup is { LeasedByOther: true } && _waitForLeaseHolder && await TryWaitForLeaseHolderAsync(key, endpoint, cancellationToken).ConfigureAwait(false) is { } loaded)
        {
            // Another instance was loading this key and stored it while we waited.
            return new MissPlan(loaded, null, null);
        }

        return new MissPlan(null, lookup, lead);
    }

    private async ValueTask<ReadOnlyMemory<byte>?> TryWaitForLeaseHolderAsync(string key, CachedEndpointInfo endpoint, CancellationToken cancellationToken)
    {
        try
        {
            return await _engine.WaitForLeaseHolderAsync(key, endpoint.KeyPrefixTemplate, _leaseWait, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            Log.StoreReadFailed(_logger, key, ex);
            return null;
        }
    }

    private async ValueTask TryReleaseLeaseAsync(string key, CacheLookup lookup)
    {
        try
        {
            await _engine.ReleaseLeaseAsync(key, lookup).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            // The lease expires by itself after CachingOptions.LeaseDuration.
            Log.StoreWriteFailed(_logger, key, ex);
        }
    }

    private async ValueTask<bool> TryStoreAsync(string key, byte[] body, CachedEndpointInfo endpoint, string? namespaceName, string[]? tags, CacheLookup? lookup, CancellationToken cancellationToken)
    {
        try
        {
            var options = new CacheEntryOptions { Expiration = endpoint.Expiration, Namespace = namespaceName, Tags = tags, KeyPrefix = endpoint.KeyPrefixTemplate };
            return await _engine.SetAsync(key, body, options, lookup, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            Log.StoreWriteFailed(_logger, key, ex);
            return false;
        }
    }

    private async ValueTask InvalidateAsync(InvalidationSet set, byte[]? writeThrough, CachedEndpointInfo endpoint, CancellationToken cancellationToken)
    {
        string prefix = endpoint.KeyPrefixTemplate;
        (byte[], CacheEntryOptions)? written = writeThrough is null
            ? null
            : (writeThrough, new CacheEntryOptions { Expiration = endpoint.Expiration, Namespace = set.EntryNamespace, Tags = set.EntryTags, KeyPrefix = prefix });
        if (_pending.HasPending)
        {
            // Earlier invalidations wait for the store: keep the order, wait behind them.
            _pending.Add(set, prefix);
            return;
        }

        try
        {
            await PendingInvalidations.ApplyAsync(_engine, set, prefix, written).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            // Kept and replayed when the store is back; meanwhile reads bypass the cache.
            Log.InvalidationFailed(_logger, set.OwnKey, ex);
            _pending.Add(set, prefix);
        }
    }

    private static bool IsStoreFailure(Exception ex) => ex is not OperationCanceledException;

    private void SetStatusHeader(HttpContext http, bool hit)
    {
        if (_addStatusHeader)
        {
            http.Response.Headers[CacheStatusHeader] = hit ? "HIT" : "MISS";
        }
    }
}
