using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Caching.AspNetCore;

/// <summary>
/// Writes cached bytes as a 200 response with the endpoint's content type: the same status, content type and
/// body the handler's own result produces.
/// </summary>
public sealed class CachedResponse : IResult, IActionResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    private readonly ReadOnlyMemory<byte> _body;

    /// <summary>Creates the response.</summary>
    /// <param name="body">The serialized value.</param>
    /// <param name="contentType">The content type.</param>
    public CachedResponse(ReadOnlyMemory<byte> body, string contentType)
    {
        _body = body;
        ContentType = contentType;
    }

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Body => _body;

    /// <inheritdoc />
    public int? StatusCode => StatusCodes.Status200OK;

    /// <inheritdoc />
    public string ContentType { get; }

    /// <inheritdoc />
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        return WriteAsync(httpContext, _body, ContentType);
    }

    // Writes stored bytes as a 200: for this result, and for the hit path, which answers without making one.
    internal static Task WriteAsync(HttpContext httpContext, ReadOnlyMemory<byte> body, string contentType)
    {
        HttpResponse response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        ValueTask<System.IO.Pipelines.FlushResult> write = response.BodyWriter.WriteAsync(body, httpContext.RequestAborted);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }

    /// <inheritdoc />
    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ExecuteAsync(context.HttpContext);
    }
}
