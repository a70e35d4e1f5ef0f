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
    internal const string CacheStatusHeader = "X-Cache";

    // RFC 9211 Cache-Status, for the cache named "Caching".
    internal const string StandardCacheStatusHeader = "Cache-Status";

    private readonly CacheEngine _engine;
    private readonly ReadThrough _readThrough;
    private readonly ILogger _logger;
    private readonly bool _addStatusHeader;
    private readonly IOptions<HttpJsonOptions> _httpJson;
    private readonly IOptions<MvcJsonOptions> _mvcJson;
    private readonly PendingInvalidations _pending;
    private readonly int _maxBodySize;
    private readonly TimeProvider _time;
    private readonly int _compressionThreshold;

    // Created by AddAttributeCaching, over the read-through that ICache shares (one single flight per process).
    internal EndpointCacheRuntime(ReadThrough readThrough, IOptions<CachingOptions> options, IOptions<HttpJsonOptions> httpJson, IOptions<MvcJsonOptions> mvcJson, ILogger<EndpointCacheRuntime> logger, PendingInvalidations pending, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(readThrough);
        ArgumentNullException.ThrowIfNull(options);
        _readThrough = readThrough;
        _engine = readThrough.Engine;
        _logger = logger;
        _addStatusHeader = options.Value.AddCacheStatusHeader;
        _httpJson = httpJson;
        _mvcJson = mvcJson;
        _pending = pending;
        _maxBodySize = options.Value.MaximumBodySize;
        _time = time;
        _compressionThreshold = options.Value.CompressionThreshold;
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

    /// <summary>GET on a minimal-API endpoint: serve the stored response, or run the handler and store what it sent.</summary>
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
        if (http.Response.StatusCode != StatusCodes.Status200OK || http.Response.HasStarted || !_engine.IsEnabled)
        {
            // A binding failure (ASP.NET Core set 400 and will not call the handler), or caching switched off: the
            // handler answers as if the endpoint carried no [Cache].
            return await next(context).ConfigureAwait(false);
        }

        if (!Scope(http, endpoint, ref key, ref tags))
        {
            // Credentials: the response may be this user's own; it is neither read from nor written to the cache.
            SetStatusHeader(http, CacheOutcome.Bypass);
            return await next(context).ConfigureAwait(false);
        }

        if (await ContinueOrBeginReadAsync(http, key, namespaceName, tags, endpoint).ConfigureAwait(false) is not { } step)
        {
            return await next(context).ConfigureAwait(false);
        }

        if (step.Served is { } stored)
        {
            return await ServeAfterFiltersAsync(context, next, endpoint, stored, OutcomeOf(step), step.StaleSince).ConfigureAwait(false);
        }

        await using ReadThrough.PendingLoad load = step.Load!;
        load.Activate(); // the handler's own spans become the miss's children
        SetStatusHeader(http, CacheOutcome.Miss);
        DetachedResponse? detached = load.SoftTimeout is not null ? DetachedResponse.Start(http) : null;
        await using ResponseCapture capture = ResponseCapture.Start(http, _maxBodySize);
        Task running = RunHandlerAsync<T>(context, next);
        if (detached is not null && await AnsweredOnSoftTimeoutAsync(http, running, detached, capture, endpoint, load).ConfigureAwait(false))
        {
            return Results.Empty;
        }

        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failed = null;
        try
        {
            await running.ConfigureAwait(false);
        }
        catch (Exception ex) when (ReadThrough.IsOriginFailure(ex, http.RequestAborted) && load.StaleIfError is not null)
        {
            failed = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            detached?.Reattach();
        }

        await capture.EndAsync().ConfigureAwait(false);
        if ((failed is not null || http.Response.StatusCode >= StatusCodes.Status500InternalServerError) && await TryServeStaleOnErrorAsync(http, capture, endpoint, load, failed?.SourceException).ConfigureAwait(false))
        {
            return Results.Empty;
        }

        failed?.Throw();
        await FinishMissAsync(http, capture, endpoint, load, ResponsePolicy.IsStorable(http, capture)).ConfigureAwait(false);
        return Results.Empty;
    }

    private async Task RunHandlerAsync<T>(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        object? result = await next(context).ConfigureAwait(false);
        await ExecuteAsync<T>(context.HttpContext, result).ConfigureAwait(false);
    }

    // Soft timeout: a reload with a stale response at hand whose handler has not answered in time. The client is
    // answered with the stored response (marked stale) and its response completed; the handler, which writes to a
    // response of its own, goes on within this request, and what it sent is stored when it ends if it may be shared
    // (the lease refuses it if an invalidation came in between). False when the handler answered in time.
    private async ValueTask<bool> AnsweredOnSoftTimeoutAsync(HttpContext http, Task running, DetachedResponse detached, ResponseCapture capture, CachedEndpointInfo endpoint, ReadThrough.PendingLoad load)
    {
        if (!await AnswerStaleOnSoftTimeoutAsync(http, running, detached, endpoint, load).ConfigureAwait(false))
        {
            return false; // the caller awaits the handler as usual
        }

        try
        {
            await running.ConfigureAwait(false);
            await capture.EndAsync().ConfigureAwait(false);
            await StoreAfterSoftTimeoutAsync(http, capture, endpoint, load, negotiated: true).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            load.ReportFailedAfterTimeout(ex);
        }
        finally
        {
            detached.Restore();
        }

        return true;
    }

    // Soft timeout: waits for the handler (or action) up to the soft timeout; if it is still running then, and a stale
    // response within its stale-if-error window is at hand that the client accepts, sends that response to the
    // client's (detached) response and ends it. True when the client was answered so; the handler goes on.
    private async ValueTask<bool> AnswerStaleOnSoftTimeoutAsync(HttpContext http, Task running, DetachedResponse detached, CachedEndpointInfo endpoint, ReadThrough.PendingLoad load)
    {
        if (running.IsCompleted || load.SoftTimeout is not { } softTimeout)
        {
            return false;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        Task first = await Task.WhenAny(running, Task.Delay(softTimeout, load.Time, timer.Token)).ConfigureAwait(false);
        await timer.CancelAsync().ConfigureAwait(false);
        if (first == running || http.RequestAborted.IsCancellationRequested || await StaleOrNoneAsync(load, http.RequestAborted).ConfigureAwait(false) is not { } stale)
        {
            return false;
        }

        StoredResponse answer = StoredResponse.Read(stale, endpoint.ContentType);
        if (!ResponsePolicy.Accepts(http.Request, answer.ContentType))
        {
            return false;
        }

        load.ReportStaleServedOnTimeout();
        load.ReleaseFollowers();
        SetStatusHeader(detached.Client.Headers, CacheOutcome.StaleOnTimeout, staleSince: load.StaleSince);
        try
        {
            await answer.WriteAsync(http.Request, detached.Client, detached.ClientBody, null, _time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false);
            await detached.ClientBody.CompleteAsync().ConfigureAwait(false); // starts the response if the body was empty, and ends it
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client went away while the stale response was sent: the handler still runs to its end, before
            // the capture's buffer and the lease are given back.
        }

        return true;
    }

    // After a soft timeout answered the client: stores what the handler sent to its detached response, through the
    // load's lease (refused after an invalidation), if it may be shared.
    private async ValueTask StoreAfterSoftTimeoutAsync(HttpContext http, ResponseCapture capture, CachedEndpointInfo endpoint, ReadThrough.PendingLoad load, bool negotiated)
    {
        HttpResponse response = http.Response; // the handler's own
        if (negotiated && load.CanStore && response.StatusCode == StatusCodes.Status200OK && ResponsePolicy.IsStorable(http, capture)
            && StoredResponse.Encode(response.StatusCode, response.ContentType, capture.OwnHeaders(), capture.Body.Span, endpoint.ContentType, _time.GetUtcNow(), _compressionThreshold, out _) is { } encoded)
        {
            await load.StoreAsync(encoded, CancellationToken.None).ConfigureAwait(false);
        }
    }

    // The stale value for a soft timeout, or null when the read again is cancelled (the client went away).
    private static async ValueTask<ReadOnlyMemory<byte>?> StaleOrNoneAsync(ReadThrough.PendingLoad load, CancellationToken cancellationToken)
    {
        try
        {
            return await load.StaleToServeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    // Stale-if-error: a reload that threw or answered 5xx, within the entry's window, is answered with the stored
    // response instead (status, headers and body as stored, marked stale), unless some of its response already left.
    // What the handler set on the response is dropped; what was there before it ran (the app's middleware) stays.
    private async ValueTask<bool> TryServeStaleOnErrorAsync(HttpContext http, ResponseCapture capture, CachedEndpointInfo endpoint, ReadThrough.PendingLoad load, Exception? failure)
    {
        if (load.StaleIfError is null || http.Response.HasStarted || capture.Overflowed)
        {
            return false;
        }

        // Read again: an invalidation since the lookup removed the stale copy, and then the failure goes through.
        if (await load.StaleToServeAsync(http.RequestAborted).ConfigureAwait(false) is not { } stale)
        {
            return false;
        }

        StoredResponse answer = StoredResponse.Read(stale, endpoint.ContentType);
        if (!ResponsePolicy.Accepts(http.Request, answer.ContentType))
        {
            return false; // a client that does not accept the stored content type gets the failure (MVC negotiates)
        }

        int status = failure is null ? http.Response.StatusCode : StatusCodes.Status500InternalServerError;
        load.ReportStaleServed(failure);
        capture.ResetResponse();
        SetStatusHeader(http, CacheOutcome.StaleOnError, status, load.StaleSince);
        await answer.WriteAsync(http, null, _time.GetUtcNow()).ConfigureAwait(false);
        return true;
    }

    // A miss the hit path began (its read took the key's lease) goes on here, once the request is bound; any other
    // request starts its read.
    private async ValueTask<ReadThrough.ReadStep?> ContinueOrBeginReadAsync(HttpContext http, string key, string? namespaceName, string[]? tags, CachedEndpointInfo endpoint)
    {
        if (http.Items.Remove(HandedOverLoad, out object? item) && item is ReadThrough.PendingLoad handed
            && await _readThrough.ContinueAsync(handed, key, EntryOf(namespaceName, tags, endpoint), http.RequestAborted).ConfigureAwait(false) is { } continued)
        {
            return continued;
        }

        return await BeginReadAsync(key, namespaceName, tags, endpoint, http.RequestAborted).ConfigureAwait(false);
    }

    private static CacheEntryOptions EntryOf(string? namespaceName, string[]? tags, CachedEndpointInfo endpoint)
        => namespaceName is null && tags is null
            ? endpoint.ReadOptions
            : endpoint.Options(namespaceName, tags);

    // Starts the read of one endpoint's entry; null when the key cannot be used (too long, say): the handler then
    // answers, uncached.
    private async ValueTask<ReadThrough.ReadStep?> BeginReadAsync(string key, string? namespaceName, string[]? tags, CachedEndpointInfo endpoint, CancellationToken cancellationToken)
    {
        CacheEntryOptions entry = EntryOf(namespaceName, tags, endpoint);
        try
        {
            return await _readThrough.BeginAsync(key, entry, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            Log.KeyNotCacheable(_logger, key.Length > 64 ? key[..64] : key, ex.Message);
            return null;
        }
    }

    // A hit still passes the app's endpoint filters (access checks, validation): they run with the status set to
    // 400, which tells ASP.NET Core's request delegate not to call the handler. A filter that lets the request
    // through (sets no status, returns what it got: Results.Empty) gets the stored response sent; anything else is
    // the filter's own answer. Headers the filters set on this request are theirs and are not overwritten.
    private async ValueTask<object?> ServeAfterFiltersAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, CachedEndpointInfo endpoint, ReadOnlyMemory<byte> stored, CacheOutcome outcome, DateTimeOffset? staleSince)
    {
        HttpContext http = context.HttpContext;
        KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] headersBefore = ResponseCapture.SnapshotHeaders(http);
        object? result;
        bool statusSet;
        using (StatusProbe probe = StatusProbe.Install(http, StatusCodes.Status400BadRequest))
        {
            try
            {
                result = await next(context).ConfigureAwait(false);
            }
            finally
            {
                statusSet = probe.StatusSet;
                if (!statusSet && !http.Response.HasStarted)
                {
                    probe.Restore(StatusCodes.Status200OK);
                }
            }
        }

        if (result is EmptyHttpResult && !statusSet && !http.Response.HasStarted)
        {
            HashSet<string>? keep = ResponseCapture.ChangedHeaderNames(http, headersBefore);
            SetStatusHeader(http, outcome, staleSince: staleSince);
            await StoredResponse.Read(stored, endpoint.ContentType).WriteAsync(http, keep, _time.GetUtcNow()).ConfigureAwait(false);
            return Results.Empty;
        }

        return result;
    }

    /// <summary>POST, PUT, PATCH or DELETE on a minimal-API endpoint: run the handler, then, only if it succeeded, invalidate.</summary>
    /// <typeparam name="T">The handler's value type, for write-through.</typeparam>
    /// <param name="context">The filter invocation.</param>
    /// <param name="next">The handler.</param>
    /// <param name="endpoint">The endpoint's settings.</param>
    /// <param name="invalidations">Builds the keys, patterns, tags and namespaces from the arguments; they are checked before the handler runs and carried out only on success.</param>
    /// <returns>The handler's result.</returns>
    /// <remarks>
    /// Success is judged from what was sent: the handler's result is executed first (into a buffer), and the
    /// invalidation runs unless the result was a Forbid or Challenge or the status sent is 400 or more. A handler
    /// that threw may have changed data first: that also invalidates (an extra miss is cheap, a stale read is not). Only then does the client get the response, so a read that starts after it never sees
    /// data from before the write.
    /// </remarks>
    public async ValueTask<object?> WriteAsync<T>(EndpointFilterInvocationContext context, EndpointFilterDelegate next, CachedEndpointInfo endpoint, Func<EndpointFilterInvocationContext, InvalidationSet> invalidations)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(invalidations);
        HttpContext http = context.HttpContext;
        if (http.Response.StatusCode >= StatusCodes.Status400BadRequest || http.Response.HasStarted)
        {
            // A binding failure: ASP.NET Core answers 400 without calling the handler; nothing changed.
            return await next(context).ConfigureAwait(false);
        }

        // Formed and checked before the handler runs: a write whose invalidations cannot be carried out is
        // refused, never performed with stale entries left behind.
        InvalidationSet set = invalidations(context);
        if (Validate(set) is { } problem)
        {
            return TypedResults.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "The request's cache keys are not valid");
        }

        await using ResponseCapture capture = ResponseCapture.Start(http, _maxBodySize);
        object? result;
        try
        {
            result = await next(context).ConfigureAwait(false);
        }
        catch
        {
            // The handler may have changed data before it threw: when in doubt, invalidate (an extra miss).
            await InvalidateAsync(set, null, endpoint, http.RequestAborted).ConfigureAwait(false);
            throw;
        }

        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failed = null;
        try
        {
            await ExecuteAsync<T>(http, result).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The handler returned, so the write may have happened: when in doubt, invalidate.
            failed = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
        }

        await FinishWriteAsync(http, capture, result, failed, set, endpoint).ConfigureAwait(false);
        return Results.Empty;
    }

    // A GET miss once its result ran into the capture. A response that may be shared gets its entity tag and is
    // stored through the load that holds the key's lease (as a plain body when nothing else needs keeping); a request
    // whose If-None-Match matches that tag is answered 304. The endpoint's own headers are taken first; then the
    // response starts, which runs the OnStarting callbacks (the session and cookie-authentication middleware add
    // their cookies there), and what they added is judged too: a response that leaves with a cookie, no-store or
    // private is not shared, and headers added at that moment belong to this response only, never to the entry.
    // The followers are released (with the stored bytes) before this client gets the body.
    private async ValueTask FinishMissAsync(HttpContext http, ResponseCapture capture, CachedEndpointInfo endpoint, ReadThrough.PendingLoad load, bool sharable)
    {
        HttpResponse response = http.Response;
        if (sharable && StoredResponse.Encode(response.StatusCode, response.ContentType, capture.OwnHeaders(), capture.Body.Span, endpoint.ContentType, _time.GetUtcNow(), load.CanStore ? _compressionThreshold : 0, out string entityTag) is { } encoded)
        {
            response.Headers.ETag = entityTag;
            SetStatusHeader(http, load.CanStore ? CacheOutcome.Stored : CacheOutcome.Miss);
            bool notModified = StoredResponse.IsNotModifiedInEitherForm(http.Request, entityTag);
            if (notModified)
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                response.Headers.ContentType = default;
            }

            await capture.StartResponseAsync().ConfigureAwait(false);
            if (load.CanStore && ResponsePolicy.IsStillSharableOnceStarted(response, notModified ? StatusCodes.Status304NotModified : StatusCodes.Status200OK))
            {
                await load.StoreAsync(encoded, http.RequestAborted).ConfigureAwait(false);
            }
        }

        await load.DisposeAsync().ConfigureAwait(false);
        await capture.SendAsync().ConfigureAwait(false);
    }

    // After a write's result ran into the capture: invalidate (or write through) when it succeeded, rethrow a
    // failure of the result, then let the client have the response.
    private async Task FinishWriteAsync(HttpContext http, ResponseCapture capture, object? result, System.Runtime.ExceptionServices.ExceptionDispatchInfo? failed, InvalidationSet set, CachedEndpointInfo endpoint)
    {
        await capture.EndAsync().ConfigureAwait(false);
        if (ResponsePolicy.IsWriteSuccess(result, http.Response.StatusCode, executed: failed is null))
        {
            byte[]? writeThrough = endpoint.WriteThrough && failed is null && ResponsePolicy.IsWriteThroughValue(http, capture, endpoint)
                ? capture.Body.ToArray()
                : null;
            await InvalidateAsync(set, writeThrough, endpoint, http.RequestAborted).ConfigureAwait(false);
        }

        failed?.Throw();
        await capture.SendAsync().ConfigureAwait(false);
    }

    // Writes a handler's result as ASP.NET Core's request delegate writes a filter pipeline's result: an IResult
    // executes itself, a string is text, anything else is JSON of its runtime type with the app's JSON options.
    private Task ExecuteAsync<T>(HttpContext http, object? result)
    {
        switch (result)
        {
            case IResult executable:
                return executable.ExecuteAsync(http);
            case string text:
                http.Response.ContentType ??= CachedEndpointInfo.TextContentType;
                return http.Response.WriteAsync(text, http.RequestAborted);
            case null when typeof(IResult).IsAssignableFrom(typeof(T)):
                return Task.CompletedTask;
            default:
                JsonSerializerOptions options = _httpJson.Value.SerializerOptions;
                JsonTypeInfo typeInfo = options.GetTypeInfo(result?.GetType() ?? typeof(T));
                return http.Response.WriteAsJsonAsync(result, typeInfo, contentType: null, http.RequestAborted);
        }
    }

    /// <summary>GET on a controller action: serve the stored response, or run the action and store what its result sent.</summary>
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
        if (!_engine.IsEnabled)
        {
            // Caching is switched off: the action answers as if it carried no [Cache].
            await next().ConfigureAwait(false);
            return;
        }

        if (!Scope(http, endpoint, ref key, ref tags))
        {
            SetStatusHeader(http, CacheOutcome.Bypass);
            await next().ConfigureAwait(false);
            return;
        }

        if (await BeginReadAsync(key, namespaceName, tags, endpoint, http.RequestAborted).ConfigureAwait(false) is not { } step)
        {
            await next().ConfigureAwait(false);
            return;
        }

        if (step.Served is { } stored)
        {
            var cached = new CachedResponse(stored, endpoint.ContentType, _time.GetUtcNow());
            if (ResponsePolicy.Accepts(http.Request, cached.ContentType))
            {
                SetStatusHeader(http, OutcomeOf(step), staleSince: step.StaleSince);
                context.Result = cached;
                return;
            }

            // MVC negotiates the content type: a client that does not accept the stored one gets the action's own.
            await next().ConfigureAwait(false);
            return;
        }

        // Headers the action sets (before its result runs) are the endpoint's own too.
        KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] headersBefore = ResponseCapture.SnapshotHeaders(http);
        var load = new ActionLoad(this, endpoint, step.Load!, headersBefore);
        step.Load!.Activate(); // the action's own spans become the miss's children
        bool handedOver = false;
        try
        {
            // Soft timeout: the action runs against a response of its own, so that a slow one can be answered with
            // the stale response while it goes on; its result then runs into that response and is stored.
            DetachedResponse? detached = step.Load!.SoftTimeout is not null ? DetachedResponse.Start(http) : null;
            Task<ActionExecutedContext> running = next();
            if (detached is not null)
            {
                if (await AnswerStaleOnSoftTimeoutAsync(http, running, detached, endpoint, step.Load!).ConfigureAwait(false))
                {
                    handedOver = await GoOnAfterSoftTimeoutAsync(http, running, detached, load, step.Load!).ConfigureAwait(false);
                    return;
                }

                try
                {
                    await running.ConfigureAwait(false);
                }
                finally
                {
                    detached.Reattach();
                }
            }

            ActionExecutedContext executed = await running.ConfigureAwait(false);
            if (executed.Exception is { } thrown && !executed.ExceptionHandled && ReadThrough.IsOriginFailure(thrown, http.RequestAborted)
                && await TryAnswerStaleOnActionErrorAsync(executed, http, endpoint, step.Load!, headersBefore).ConfigureAwait(false))
            {
                return;
            }

            if (executed.Result is not null && (executed.Exception is null || executed.ExceptionHandled))
            {
                // Stored once the result has run (result filters such as [Produces], formatters, content
                // negotiation): what it sent is what is kept. The generated filter's result half runs it.
                http.Items[ResultWorkItem] = load;
                http.Response.RegisterForDisposeAsync(load);
                handedOver = true;
            }
        }
        finally
        {
            if (!handedOver)
            {
                await load.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // A controller action that went on past its soft timeout (the client has its stale answer): its result runs into
    // the detached response and is stored by the result half; a failure is logged, and handled so that MVC does not
    // write an error to a response that has ended. True when the load was handed to the result half.
    private static async ValueTask<bool> GoOnAfterSoftTimeoutAsync(HttpContext http, Task<ActionExecutedContext> running, DetachedResponse detached, ActionLoad load, ReadThrough.PendingLoad pending)
    {
        ActionExecutedContext executed;
        try
        {
            executed = await running.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            pending.ReportFailedAfterTimeout(ex);
            detached.Restore();
            throw;
        }

        if (executed.Result is not null && (executed.Exception is null || executed.ExceptionHandled))
        {
            load.Detached = detached;
            http.Items[ResultWorkItem] = load;
            http.Response.RegisterForDisposeAsync(load);
            return true;
        }

        if (executed.Exception is { } failure)
        {
            pending.ReportFailedAfterTimeout(failure);
        }

        executed.ExceptionHandled = true;
        executed.Result = new EmptyResult();
        detached.Restore();
        return false;
    }

    // Stale-if-error on a controller action that threw: within the entry's window, the exception is handled and the
    // stored response is the result (marked stale). What the action set on the response is dropped; what was there
    // before it ran stays.
    private async ValueTask<bool> TryAnswerStaleOnActionErrorAsync(ActionExecutedContext executed, HttpContext http, CachedEndpointInfo endpoint, ReadThrough.PendingLoad load, KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] headersBefore)
    {
        if (load.StaleIfError is null || http.Response.HasStarted || await load.StaleToServeAsync(http.RequestAborted).ConfigureAwait(false) is not { } stale)
        {
            return false;
        }

        var cached = new CachedResponse(stale, endpoint.ContentType, _time.GetUtcNow());
        if (!ResponsePolicy.Accepts(http.Request, cached.ContentType))
        {
            return false;
        }

        load.ReportStaleServed(executed.Exception);
        http.Response.Headers.Clear();
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in headersBefore)
        {
            http.Response.Headers[header.Key] = header.Value;
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        SetStatusHeader(http, CacheOutcome.StaleOnError, StatusCodes.Status500InternalServerError, load.StaleSince);
        executed.Result = cached;
        executed.ExceptionHandled = true;
        return true;
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
        if (executed.Exception is not null && !executed.ExceptionHandled)
        {
            // The action may have changed data before it threw: when in doubt, invalidate (an extra miss).
            await InvalidateAsync(set, null, endpoint, context.HttpContext.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (executed.Result is null)
        {
            if (context.HttpContext.Response.StatusCode < 400)
            {
                await InvalidateAsync(set, null, endpoint, context.HttpContext.RequestAborted).ConfigureAwait(false);
            }

            return;
        }

        // Invalidated once the result has run, judged from the status it sent, before the client sees it; if the
        // result never runs (a result filter answered, an exception), when the response is disposed.
        var invalidation = new ActionInvalidation(executed, this, set, endpoint);
        context.HttpContext.Items[ResultWorkItem] = invalidation;
        context.HttpContext.Response.RegisterForDisposeAsync(invalidation);
    }

    // The hit path: a GET whose key the request's values form is answered from the cache before binding; anything
    // else (a miss, a store failure, a key that cannot be formed, credentials) takes the usual path.
    internal Task ServeHitOrNextAsync(HttpContext http, RequestDelegate inner, CachedEndpointInfo endpoint, RequestValues values, Func<HttpContext, RequestValues, string?> formKey)
    {
        string method = http.Request.Method;
        if (!_engine.IsEnabled || !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) || formKey(http, values) is not { } key)
        {
            return inner(http);
        }

        string[]? tags = null;
        if (!Scope(http, endpoint, ref key, ref tags))
        {
            return inner(http);
        }

        if (HttpMethods.IsHead(method))
        {
            // A HEAD response is never stored: a look that takes no lease (and counts no miss: the filter does).
            ValueTask<ReadOnlyMemory<byte>?> peek = _readThrough.PeekAsync(key, endpoint.ReadOptions, http.RequestAborted);
            if (peek.IsCompletedSuccessfully)
            {
                return peek.Result is { } body ? WriteHitAsync(http, endpoint, body) : inner(http);
            }

            return AwaitPeekAsync(peek, http, inner, endpoint);
        }

        // One command: the entry, or the key's lease when it holds nothing; the miss then goes on in the caching
        // filter with that lease (no second read).
        ValueTask<ReadThrough.ReadStep?> read = _readThrough.ReadOrLeaseAsync(key, endpoint.ReadOptions, http.RequestAborted);
        if (read.IsCompletedSuccessfully)
        {
            ReadThrough.ReadStep? step = read.Result;
            return step?.Served is { } body ? WriteHitAsync(http, endpoint, body)
                : step?.Load is { } load ? LoadThroughFilterAsync(http, inner, load)
                : inner(http);
        }

        return AwaitReadAsync(read, http, inner, endpoint);
    }

    private async Task AwaitReadAsync(ValueTask<ReadThrough.ReadStep?> read, HttpContext http, RequestDelegate inner, CachedEndpointInfo endpoint)
    {
        ReadThrough.ReadStep? step = await read.ConfigureAwait(false);
        if (step?.Served is { } body)
        {
            await WriteHitAsync(http, endpoint, body).ConfigureAwait(false);
        }
        else if (step?.Load is { } load)
        {
            await LoadThroughFilterAsync(http, inner, load).ConfigureAwait(false);
        }
        else
        {
            await inner(http).ConfigureAwait(false);
        }
    }

    // Hands the lease the hit path's read took to the caching filter, which goes on with it once the request is
    // bound. If the filter does not (a binding failure, an exception first), the lease is given back here.
    private static async Task LoadThroughFilterAsync(HttpContext http, RequestDelegate inner, ReadThrough.PendingLoad load)
    {
        http.Items[HandedOverLoad] = load;
        try
        {
            await inner(http).ConfigureAwait(false);
        }
        finally
        {
            http.Items.Remove(HandedOverLoad);
            await load.DisposeAsync().ConfigureAwait(false); // nothing left to do once the filter has ended it
        }
    }

    private async Task AwaitPeekAsync(ValueTask<ReadOnlyMemory<byte>?> peek, HttpContext http, RequestDelegate inner, CachedEndpointInfo endpoint)
    {
        if (await peek.ConfigureAwait(false) is { } body)
        {
            await WriteHitAsync(http, endpoint, body).ConfigureAwait(false);
        }
        else
        {
            await inner(http).ConfigureAwait(false);
        }
    }

    private Task WriteHitAsync(HttpContext http, CachedEndpointInfo endpoint, ReadOnlyMemory<byte> body)
    {
        SetStatusHeader(http, CacheOutcome.Hit);
        return StoredResponse.Read(body, endpoint.ContentType).WriteAsync(http, null, _time.GetUtcNow());
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

    private async ValueTask InvalidateAsync(InvalidationSet set, byte[]? writeThrough, CachedEndpointInfo endpoint, CancellationToken cancellationToken)
    {
        string prefix = endpoint.KeyPrefixTemplate;
        (byte[], CacheEntryOptions)? written = writeThrough is null
            ? null
            : (writeThrough, new CacheEntryOptions { Expiration = endpoint.Expiration, Namespace = set.EntryNamespace, Tags = set.EntryTags, KeyPrefix = prefix, StaleIfError = endpoint.StaleIfError, StaleWhileRevalidate = endpoint.StaleWhileRevalidate });
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

    private enum CacheOutcome
    {
        Hit,
        Miss,
        Stored,
        Bypass,
        StaleWhileRevalidating,
        StaleOnError,
        StaleOnTimeout,
    }

    // X-Cache (HIT, MISS or STALE) and RFC 9211 Cache-Status: "hit"; "fwd=miss", with "stored" when the response
    // was handed to the store; "fwd=bypass" when the request's credentials kept the cache out; a stale value served
    // while another request reloads it is a hit with a negative ttl (seconds past its freshness), and one served
    // because the reload failed says so: "fwd=stale; fwd-status=" the status the handler gave (500 when it threw).
    // How a read's served bytes are reported: a hit, or a stale value (while another request reloads it, or because
    // that reload has run past the soft timeout).
    private static CacheOutcome OutcomeOf(ReadThrough.ReadStep step)
        => step.StaleSince is null ? CacheOutcome.Hit : step.SoftTimedOut ? CacheOutcome.StaleOnTimeout : CacheOutcome.StaleWhileRevalidating;

    private void SetStatusHeader(HttpContext http, CacheOutcome outcome, int failedStatus = 0, DateTimeOffset? staleSince = null)
    {
        if (!http.Response.HasStarted)
        {
            SetStatusHeader(http.Response.Headers, outcome, failedStatus, staleSince);
        }
    }

    private void SetStatusHeader(IHeaderDictionary headers, CacheOutcome outcome, int failedStatus = 0, DateTimeOffset? staleSince = null)
    {
        if (!_addStatusHeader)
        {
            return;
        }

        if (outcome != CacheOutcome.Bypass)
        {
            headers[CacheStatusHeader] = outcome switch
            {
                CacheOutcome.Hit => "HIT",
                CacheOutcome.StaleWhileRevalidating or CacheOutcome.StaleOnError or CacheOutcome.StaleOnTimeout => "STALE",
                _ => "MISS",
            };
        }

        headers[StandardCacheStatusHeader] = outcome switch
        {
            CacheOutcome.Hit => "Caching; hit",
            CacheOutcome.Miss => "Caching; fwd=miss",
            CacheOutcome.Stored => "Caching; fwd=miss; stored",
            CacheOutcome.StaleWhileRevalidating => "Caching; hit; ttl=" + StaleTtl(staleSince),
            CacheOutcome.StaleOnError => "Caching; fwd=stale; fwd-status=" + failedStatus.ToString(System.Globalization.CultureInfo.InvariantCulture) + "; ttl=" + StaleTtl(staleSince),
            CacheOutcome.StaleOnTimeout => "Caching; fwd=stale; ttl=" + StaleTtl(staleSince) + "; detail=soft-timeout",
            _ => "Caching; fwd=bypass",
        };
    }

    // RFC 9211's ttl of a stale response: minus the whole seconds since its freshness ended.
    private string StaleTtl(DateTimeOffset? staleSince)
        => (-Math.Max(0, (long)(_time.GetUtcNow() - staleSince.GetValueOrDefault()).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    // One controller GET's miss, from the lookup to the store: finished by the capturing result once it has run,
    // or, if it never runs (a result filter answered, an exception), when the response is disposed.
    // HttpContext.Items key: what the action's result must be run through (a store or an invalidation).
    internal static readonly object ResultWorkItem = new();

    // HttpContext.Items key: the load whose lease the hit path's read took, for the caching filter to go on with.
    private static readonly object HandedOverLoad = new();

    /// <summary>Work that runs around a controller action's result: it captures what the result writes.</summary>
    internal interface IResultWork
    {
        Task RunAsync(HttpContext http, Func<Task> execute);
    }

    private sealed class ActionLoad(EndpointCacheRuntime runtime, CachedEndpointInfo endpoint, ReadThrough.PendingLoad load, KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] headersBefore) : IAsyncDisposable, IResultWork
    {
        /// <summary>Set when the client was answered on the soft timeout: the result runs into this response and is only stored.</summary>
        public DetachedResponse? Detached { get; set; }

        public async Task RunAsync(HttpContext http, Func<Task> execute)
        {
            if (Detached is { } detached)
            {
                await StoreAfterSoftTimeoutAsync(http, execute, detached).ConfigureAwait(false);
                return;
            }

            runtime.SetStatusHeader(http, CacheOutcome.Miss);
            await using ResponseCapture capture = ResponseCapture.Start(http, runtime._maxBodySize, headersBefore);
            await execute().ConfigureAwait(false);
            await capture.EndAsync().ConfigureAwait(false);
            if (http.Response.StatusCode >= StatusCodes.Status500InternalServerError && await runtime.TryServeStaleOnErrorAsync(http, capture, endpoint, load, null).ConfigureAwait(false))
            {
                // Stale-if-error: the result answered 5xx; the stored response was sent instead.
                return;
            }

            bool sharable = ResponsePolicy.IsStorable(http, capture) && ResponsePolicy.IsNegotiatedAsStored(http, endpoint);
            await runtime.FinishMissAsync(http, capture, endpoint, load, sharable).ConfigureAwait(false);
        }

        public ValueTask DisposeAsync() => load.DisposeAsync();

        private async Task StoreAfterSoftTimeoutAsync(HttpContext http, Func<Task> execute, DetachedResponse detached)
        {
            try
            {
                await using ResponseCapture capture = ResponseCapture.Start(http, runtime._maxBodySize, headersBefore);
                await execute().ConfigureAwait(false);
                await capture.EndAsync().ConfigureAwait(false);
                await runtime.StoreAfterSoftTimeoutAsync(http, capture, endpoint, load, ResponsePolicy.IsNegotiatedAsStored(http, endpoint)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                load.ReportFailedAfterTimeout(ex);
            }
            finally
            {
                detached.Restore();
            }
        }
    }

    private sealed class ActionInvalidation(ActionExecutedContext executed, EndpointCacheRuntime runtime, InvalidationSet set, CachedEndpointInfo endpoint) : IResultWork, IAsyncDisposable
    {
        private int _ran;

        // The result never ran through the generated filter's result half: when in doubt, invalidate.
        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _ran, 1) == 0)
            {
                await runtime.InvalidateAsync(set, null, endpoint, CancellationToken.None).ConfigureAwait(false);
            }
        }

        public async Task RunAsync(HttpContext http, Func<Task> execute)
        {
            Interlocked.Exchange(ref _ran, 1);
            await using ResponseCapture capture = ResponseCapture.Start(http, runtime._maxBodySize);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo? failed = null;
            try
            {
                await execute().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failed = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
            }

            await runtime.FinishWriteAsync(http, capture, executed.Result, failed, set, endpoint).ConfigureAwait(false);
        }
    }
}
