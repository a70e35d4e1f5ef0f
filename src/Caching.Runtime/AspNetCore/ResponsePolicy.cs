using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Caching.AspNetCore;

/// <summary>
/// What may be stored and what counts as a successful write, judged from the response the endpoint actually
/// produced (after its result ran), never from the value the handler returned.
/// </summary>
internal static class ResponsePolicy
{
    /// <summary>
    /// Whether a captured GET response may be shared with other clients: a 200 whose body was captured whole,
    /// without cookies, without <c>Cache-Control</c> no-store, no-cache or private, and without a <c>Vary</c>
    /// other than Accept-Encoding (the key knows nothing of other request headers).
    /// </summary>
    public static bool IsStorable(HttpContext http, ResponseCapture capture)
    {
        HttpResponse response = http.Response;
        if (response.StatusCode != StatusCodes.Status200OK || capture.Overflowed || response.HasStarted || HttpMethods.IsHead(http.Request.Method))
        {
            // A HEAD response has no body (file results still set its length): never a GET's entry.
            return false;
        }

        IHeaderDictionary headers = response.Headers;
        if (headers.SetCookie.Count > 0)
        {
            return false;
        }

        if (headers.CacheControl.Count > 0 && !IsSharable(headers.CacheControl))
        {
            return false;
        }

        // A Vary set by the endpoint itself (compression middleware adds its own later, outside the capture) says
        // the body depends on request headers the key knows nothing of.
        return headers.Vary.Count == 0;
    }

    /// <summary>
    /// Whether a response judged storable stays so once it started, after the OnStarting callbacks ran: still the
    /// status it had (a 200, or the 304 the cache made of it),
    /// and nothing they added makes it private (a cookie, <c>Cache-Control</c> no-store, no-cache or private, a
    /// <c>Vary</c> on anything but Accept-Encoding, which compression middleware adds for its own encoding).
    /// </summary>
    public static bool IsStillSharableOnceStarted(HttpResponse response, int status)
    {
        IHeaderDictionary headers = response.Headers;
        return response.StatusCode == status
            && headers.SetCookie.Count == 0
            && (headers.CacheControl.Count == 0 || IsSharable(headers.CacheControl))
            && VariesOnlyByEncoding(headers.Vary);
    }

    private static bool VariesOnlyByEncoding(StringValues vary)
    {
        foreach (string? value in vary)
        {
            foreach (string name in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!name.Equals(HeaderNames.AcceptEncoding, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool IsSharable(StringValues cacheControl)
    {
        foreach (string? value in cacheControl)
        {
            foreach (string directive in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string name = directive.Split('=', 2)[0].Trim();
                if (name.Equals("no-store", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("no-cache", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("private", StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Whether an MVC response is the one every client gets: MVC negotiates the content type from Accept, so a
    /// response in another type than the endpoint's usual one, to a request that asked for something specific,
    /// is that client's own.
    /// </summary>
    public static bool IsNegotiatedAsStored(HttpContext http, CachedEndpointInfo endpoint)
    {
        StringValues accept = http.Request.Headers.Accept;
        if (accept.Count == 0 || IsAnything(accept))
        {
            return true;
        }

        return string.Equals(http.Response.ContentType, endpoint.ContentType, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsAnything(StringValues accept)
    {
        foreach (string? value in accept)
        {
            foreach (string range in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!range.Split(';', 2)[0].Trim().Equals("*/*", StringComparison.Ordinal))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Whether the request's Accept header admits <paramref name="contentType"/> (no Accept admits anything).</summary>
    public static bool Accepts(HttpRequest request, string contentType)
    {
        StringValues accept = request.Headers.Accept;
        if (accept.Count == 0)
        {
            return true;
        }

        string media = contentType.Split(';', 2)[0].Trim();
        int slash = media.IndexOf('/');
        string type = slash > 0 ? media[..slash] : media;
        foreach (string? value in accept)
        {
            foreach (string range in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] parts = range.Split(';');
                string name = parts[0].Trim();
                bool refused = parts.Skip(1).Any(p => p.Trim() is "q=0" or "q=0.0" or "q=0.00" or "q=0.000");
                if (refused)
                {
                    continue;
                }

                if (name == "*/*" || name.Equals(media, StringComparison.OrdinalIgnoreCase) || name.Equals(type + "/*", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a write succeeded: not a Forbid or Challenge, and, once its result ran, a status below 400 (2xx,
    /// or a redirect after the write). A result that failed while it was being written still counts as a
    /// success: the handler returned, the data may have changed, and an extra miss is cheap.
    /// </summary>
    /// <param name="result">What the handler (minimal API) or action (MVC) returned.</param>
    /// <param name="status">The status sent.</param>
    /// <param name="executed">Whether the result ran to the end.</param>
    public static bool IsWriteSuccess(object? result, int status, bool executed)
    {
        object? inner = result is INestedHttpResult nested ? nested.Result : result;
        if (inner is ForbidHttpResult or ChallengeHttpResult or ForbidResult or ChallengeResult)
        {
            return false;
        }

        return !executed || status < 400;
    }

    /// <summary>Whether a write's response is the new value of its key: a 2xx JSON (or text) body of the endpoint's content type, whole, without cookies.</summary>
    public static bool IsWriteThroughValue(HttpContext http, ResponseCapture capture, CachedEndpointInfo endpoint)
    {
        HttpResponse response = http.Response;
        return response.StatusCode is >= 200 and < 300
            && !capture.Overflowed
            && !capture.Body.IsEmpty
            && response.Headers.SetCookie.Count == 0
            && string.Equals(response.ContentType, endpoint.ContentType, StringComparison.OrdinalIgnoreCase);
    }
}
