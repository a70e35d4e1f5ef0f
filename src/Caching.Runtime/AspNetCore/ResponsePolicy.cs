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
        if (response.StatusCode != StatusCodes.Status200OK || capture.Overflowed || response.HasStarted)
        {
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

        foreach (string? vary in headers.Vary)
        {
            foreach (string part in (vary ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!part.Equals(HeaderNames.AcceptEncoding, StringComparison.OrdinalIgnoreCase))
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
