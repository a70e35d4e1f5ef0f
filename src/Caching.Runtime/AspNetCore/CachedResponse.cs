using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Caching.AspNetCore;

/// <summary>
/// A stored response, written as it was first sent: its status, content type, the handler's own headers and the
/// body bytes, with its <c>ETag</c> and <c>Age</c>; a request whose <c>If-None-Match</c> matches gets
/// <c>304 Not Modified</c>.
/// </summary>
public sealed class CachedResponse : IResult, IActionResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    private readonly StoredResponse _stored;
    private readonly DateTimeOffset _now;

    /// <summary>Creates the response.</summary>
    /// <param name="stored">The stored entry: a body, or a body with its status and headers.</param>
    /// <param name="contentType">The content type of an entry that is a body only.</param>
    public CachedResponse(ReadOnlyMemory<byte> stored, string contentType)
        : this(stored, contentType, TimeProvider.System.GetUtcNow())
    {
    }

    // Read at the time given: the response's Age is counted from it.
    internal CachedResponse(ReadOnlyMemory<byte> stored, string contentType, DateTimeOffset now)
    {
        _stored = StoredResponse.Read(stored, contentType);
        _now = now;
    }

    /// <summary>The body as the handler sent it (decompressed when it is stored compressed).</summary>
    public ReadOnlyMemory<byte> Body => _stored.IsCompressed ? StoredCompression.DecompressShared(_stored.Body.Span, _stored.Length) : _stored.Body;

    /// <inheritdoc />
    public int? StatusCode => _stored.StatusCode;

    /// <inheritdoc />
    public string ContentType => _stored.ContentType;

    /// <inheritdoc />
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        return _stored.WriteAsync(httpContext, null, _now);
    }

    /// <inheritdoc />
    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ExecuteAsync(context.HttpContext);
    }
}
