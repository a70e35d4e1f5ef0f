using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Caching.AspNetCore;

/// <summary>
/// While a hit runs the app's endpoint filters: the response reports a status (400, which keeps ASP.NET Core from
/// calling the handler) and records whether anyone set a status of their own, so that a filter's answer is never
/// mistaken for "go on" and never loses the status it chose.
/// </summary>
internal sealed class StatusProbe : IHttpResponseFeature, IDisposable
{
    private readonly HttpContext _http;
    private readonly IHttpResponseFeature _inner;

    private StatusProbe(HttpContext http, IHttpResponseFeature inner)
    {
        _http = http;
        _inner = inner;
    }

    /// <summary>Sets <paramref name="status"/> and watches for other writes of the status until disposed.</summary>
    public static StatusProbe Install(HttpContext http, int status)
    {
        IHttpResponseFeature inner = http.Features.Get<IHttpResponseFeature>() ?? throw new InvalidOperationException("The request has no response feature.");
        inner.StatusCode = status;
        var probe = new StatusProbe(http, inner);
        http.Features.Set<IHttpResponseFeature>(probe);
        return probe;
    }

    /// <summary>Whether a filter set the status (to any value, 400 included).</summary>
    public bool StatusSet { get; private set; }

    /// <summary>Puts back the status the request had, when nobody set one.</summary>
    public void Restore(int status) => _inner.StatusCode = status;

    public int StatusCode
    {
        get => _inner.StatusCode;
        set
        {
            StatusSet = true;
            _inner.StatusCode = value;
        }
    }

    public string? ReasonPhrase
    {
        get => _inner.ReasonPhrase;
        set => _inner.ReasonPhrase = value;
    }

    public IHeaderDictionary Headers
    {
        get => _inner.Headers;
        set => _inner.Headers = value;
    }

    [Obsolete("Use IHttpResponseBodyFeature.Stream instead.")]
    public Stream Body
    {
        get => _inner.Body;
        set => _inner.Body = value;
    }

    public bool HasStarted => _inner.HasStarted;

    public void OnStarting(Func<object, Task> callback, object state) => _inner.OnStarting(callback, state);

    public void OnCompleted(Func<object, Task> callback, object state) => _inner.OnCompleted(callback, state);

    public void Dispose() => _http.Features.Set(_inner);
}
