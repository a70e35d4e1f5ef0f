using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Caching.AspNetCore;

/// <summary>
/// A response of the handler's own while a reload with a soft timeout runs: the handler sets its status and headers
/// here (its body goes into the <see cref="ResponseCapture"/>), so that the client's response can be answered with
/// the stale one if the handler is slow, without the two ever touching each other. If the handler answers in time,
/// what it set is moved to the client's response and the request goes on as usual.
/// </summary>
internal sealed class DetachedResponse
{
    private readonly HttpContext _http;
    private readonly HttpResponseFeature _handler;

    private DetachedResponse(HttpContext http, IHttpResponseFeature client, IHttpResponseBodyFeature clientBody)
    {
        _http = http;
        Client = client;
        ClientBody = clientBody;
        _handler = new HttpResponseFeature { StatusCode = client.StatusCode, ReasonPhrase = client.ReasonPhrase, Headers = new HeaderDictionary() };
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in client.Headers)
        {
            _handler.Headers[header.Key] = header.Value;
        }

        http.Features.Set<IHttpResponseFeature>(_handler);
    }

    /// <summary>The client's response (status and headers).</summary>
    public IHttpResponseFeature Client { get; }

    /// <summary>The client's response body.</summary>
    public IHttpResponseBodyFeature ClientBody { get; }

    /// <summary>Gives the handler a response of its own; call before the body is captured.</summary>
    public static DetachedResponse Start(HttpContext http)
        => new(
            http,
            http.Features.Get<IHttpResponseFeature>() ?? throw new InvalidOperationException("The request has no response feature."),
            http.Features.Get<IHttpResponseBodyFeature>() ?? throw new InvalidOperationException("The request has no response body feature."));

    /// <summary>The handler answered in time: its status and headers become the client's, and the request uses the client's response again.</summary>
    public void Reattach()
    {
        Client.StatusCode = _handler.StatusCode;
        Client.ReasonPhrase = _handler.ReasonPhrase;
        Client.Headers.Clear();
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in _handler.Headers)
        {
            Client.Headers[header.Key] = header.Value;
        }

        _http.Features.Set(Client);
    }

    /// <summary>The client was answered meanwhile and the handler has ended: the request uses the client's response again.</summary>
    public void Restore() => _http.Features.Set(Client);
}
