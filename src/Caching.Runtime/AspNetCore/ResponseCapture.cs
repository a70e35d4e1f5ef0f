using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Caching.AspNetCore;

/// <summary>
/// Captures what an endpoint actually sends: while it is installed, everything the handler, its filters and its
/// result write to the response body goes to a buffer instead of the connection, so that the response can be
/// judged (status, headers, cookies) and stored before the client sees any of it. Headers stay on the response.
/// </summary>
/// <remarks>
/// A body larger than <c>limit</c> is not buffered to the end: the buffered part is sent and the rest streams
/// through, and the response is then not stored.
/// </remarks>
internal sealed class ResponseCapture : IAsyncDisposable
{
    private readonly HttpContext _http;
    private readonly IHttpResponseBodyFeature _original;
    private readonly CaptureStream _stream;
    private readonly StreamResponseBodyFeature _feature;
    private readonly KeyValuePair<string, StringValues>[] _headersBefore;
    private bool _ended;

    private ResponseCapture(HttpContext http, IHttpResponseBodyFeature original, int limit, KeyValuePair<string, StringValues>[]? headersBefore)
    {
        _http = http;
        _original = original;
        _stream = new CaptureStream(original, limit);
        _feature = new StreamResponseBodyFeature(_stream, original);
        _headersBefore = headersBefore ?? SnapshotHeaders(http);
        http.Features.Set<IHttpResponseBodyFeature>(_feature);
    }

    /// <summary>Starts capturing the response of <paramref name="http"/>.</summary>
    /// <param name="http">The request's context.</param>
    /// <param name="limit">The most bytes buffered.</param>
    /// <param name="headersBefore">The response headers before the endpoint ran, when that was earlier than now (MVC actions).</param>
    public static ResponseCapture Start(HttpContext http, int limit, KeyValuePair<string, StringValues>[]? headersBefore = null)
        => new(http, http.Features.Get<IHttpResponseBodyFeature>() ?? throw new InvalidOperationException("The request has no response body feature."), limit, headersBefore);

    /// <summary>The response headers as they are now, to tell later which ones the endpoint set.</summary>
    public static KeyValuePair<string, StringValues>[] SnapshotHeaders(HttpContext http)
        => http.Response.Headers.Count == 0 ? [] : [.. http.Response.Headers];

    /// <summary>Whether the body grew past the limit and went through unbuffered: such a response is never stored.</summary>
    public bool Overflowed => _stream.Overflowed;

    /// <summary>The captured body (valid until the capture is disposed).</summary>
    public ReadOnlyMemory<byte> Body => _stream.Buffered;

    /// <summary>Flushes what the writers still hold and puts the response's own body back.</summary>
    public async ValueTask EndAsync()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        try
        {
            await _feature.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            _http.Features.Set(_original);
        }
    }

    /// <summary>
    /// Drops what the endpoint set on the response (status, headers; the body was only buffered, and is dropped
    /// when the capture is disposed): the response is as it was before the endpoint ran. Only before it started.
    /// </summary>
    public void ResetResponse()
    {
        HttpResponse response = _http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.Clear();
        foreach (KeyValuePair<string, StringValues> header in _headersBefore)
        {
            response.Headers[header.Key] = header.Value;
        }

        _stream.Release();
    }

    /// <summary>
    /// The headers the endpoint added or changed while it ran, without the ones that belong to one response only
    /// (framing, date, cookies, the cache's own) and without Content-Type, which is kept apart.
    /// </summary>
    public List<KeyValuePair<string, string>> OwnHeaders()
    {
        var own = new List<KeyValuePair<string, string>>();
        foreach (KeyValuePair<string, StringValues> header in _http.Response.Headers)
        {
            if (IsPerResponse(header.Key) || Unchanged(header))
            {
                continue;
            }

            foreach (string? value in header.Value)
            {
                if (value is not null)
                {
                    own.Add(new(header.Key, value));
                }
            }
        }

        return own;
    }

    private bool Unchanged(KeyValuePair<string, StringValues> header) => Unchanged(_headersBefore, header);

    // Whether the header had this same value in the snapshot.
    private static bool Unchanged(KeyValuePair<string, StringValues>[] before, KeyValuePair<string, StringValues> header)
    {
        foreach (KeyValuePair<string, StringValues> old in before)
        {
            if (string.Equals(old.Key, header.Key, StringComparison.OrdinalIgnoreCase))
            {
                return StringValues.Equals(old.Value, header.Value);
            }
        }

        return false;
    }

    /// <summary>The names of the headers whose values changed since <paramref name="before"/>.</summary>
    public static HashSet<string>? ChangedHeaderNames(HttpContext http, KeyValuePair<string, StringValues>[] before)
    {
        HashSet<string>? changed = null;
        foreach (KeyValuePair<string, StringValues> header in http.Response.Headers)
        {
            if (!Unchanged(before, header))
            {
                (changed ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(header.Key);
            }
        }

        return changed;
    }

    /// <summary>Headers that describe one response, not its content: never stored, never replayed.</summary>
    public static bool IsPerResponse(string name) =>
        name.Equals(HeaderNames.ContentType, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.TransferEncoding, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Date, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.SetCookie, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Connection, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.KeepAlive, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Server, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Age, StringComparison.OrdinalIgnoreCase)
        || name.Equals("Cache-Status", StringComparison.OrdinalIgnoreCase)
        || name.Equals(EndpointCacheRuntime.CacheStatusHeader, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Starts the response (after the capture ended) with the captured body's length: the OnStarting callbacks run
    /// and the headers are final. The body is sent by <see cref="SendAsync"/>.
    /// </summary>
    public Task StartResponseAsync()
    {
        SetContentLength();
        return _http.Response.HasStarted ? Task.CompletedTask : _http.Response.StartAsync(_http.RequestAborted);
    }

    /// <summary>Sends the captured body to the client (after the capture ended).</summary>
    public Task SendAsync()
    {
        if (_http.Response.StatusCode == StatusCodes.Status304NotModified)
        {
            // The cache answered a conditional request: a 304 has no body.
            return Task.CompletedTask;
        }

        ReadOnlyMemory<byte> body = _stream.Buffered;
        if (_stream.Overflowed || body.IsEmpty)
        {
            return Task.CompletedTask;
        }

        SetContentLength();
        return WriteAsync(_original, body, _http.RequestAborted);
    }

    private void SetContentLength()
    {
        HttpResponse response = _http.Response;
        if (!_stream.Overflowed && !_stream.Buffered.IsEmpty && response.ContentLength is null && !response.HasStarted
            && response.StatusCode != StatusCodes.Status304NotModified)
        {
            response.ContentLength = _stream.Buffered.Length;
        }
    }

    internal static Task WriteAsync(IHttpResponseBodyFeature body, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        ValueTask<System.IO.Pipelines.FlushResult> write = body.Writer.WriteAsync(bytes, cancellationToken);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        await EndAsync().ConfigureAwait(false);
        _stream.Release();
    }

    // A write-only stream that buffers up to a limit (pooled), then sends what it holds and streams the rest.
    private sealed class CaptureStream(IHttpResponseBodyFeature original, int limit) : Stream
    {
        private byte[] _buffer = [];
        private int _length;

        public bool Overflowed { get; private set; }

        public ReadOnlyMemory<byte> Buffered => _buffer.AsMemory(0, _length);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Overflowed || _length + buffer.Length > limit)
            {
                // Synchronous writes past the limit: rare (servers disallow synchronous IO by default).
                WriteThroughAsync(buffer.ToArray(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
                return;
            }

            Append(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Overflowed || _length + buffer.Length > limit)
            {
                return WriteThroughAsync(buffer, cancellationToken);
            }

            Append(buffer.Span);
            return ValueTask.CompletedTask;
        }

        private void Append(ReadOnlySpan<byte> data)
        {
            if (_length + data.Length > _buffer.Length)
            {
                byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_length + data.Length, Math.Max(4096, _buffer.Length * 2)));
                _buffer.AsSpan(0, _length).CopyTo(larger);
                if (_buffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                }

                _buffer = larger;
            }

            data.CopyTo(_buffer.AsSpan(_length));
            _length += data.Length;
        }

        // Past the limit: what was buffered goes first, then everything streams through.
        private async ValueTask WriteThroughAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (!Overflowed)
            {
                Overflowed = true;
                if (_length > 0)
                {
                    await original.Writer.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
                }
            }

            await original.Writer.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }

        public void Release()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = [];
            _length = 0;
        }
    }
}
