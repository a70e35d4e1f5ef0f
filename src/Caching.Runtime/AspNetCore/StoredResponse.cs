using System.Buffers.Binary;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Caching.AspNetCore;

/// <summary>
/// A cached response as it is stored: the common case (200, the endpoint's usual content type, no headers of the
/// handler's own, a body under <see cref="PlainBodyLimit"/> bytes) is the body alone, exactly the JSON or text the
/// handler sent, readable with redis-cli and interchangeable with entries that warmers write through
/// <see cref="ICache"/>; anything else carries its status, the time it was stored, its entity tag, content type and
/// headers in a small envelope before the body.
/// </summary>
/// <remarks>
/// Envelope: <c>0xCA 0x05</c>, status (2 bytes), the time stored (8 bytes, Unix milliseconds), the body's coding
/// (1 byte: 0 as sent, 1 Brotli), the body's length as sent (4 bytes), the entity tag, the content type, header
/// count (2 bytes), each header's name and value, then the body; strings are a 2-byte length and UTF-8; numbers are
/// big-endian. <c>0xCA</c> never starts valid UTF-8, so no JSON or text body is ever mistaken
/// for an envelope. Envelopes of the earlier format (<c>0xCA 0x04</c>: no time, no tag) are still read.
/// A plain entry's entity tag is the hash of its bytes, computed when it is served: what an endpoint stores plain is
/// under 1 KiB (tens of nanoseconds to hash); values that warmers or write-through store plain can be larger and
/// cost about 1 us per 30 KB. Envelopes carry the tag computed when they were stored.
/// </remarks>
internal readonly struct StoredResponse
{
    /// <summary>The largest body stored plain (without an envelope) is one byte less.</summary>
    public const int PlainBodyLimit = 1024;

    private const byte Magic = 0xCA;
    private const byte EarlierFormat = 0x04;
    private const byte Format = 0x05;
    private const byte Identity = 0;
    private const byte Brotli = 1;

    private StoredResponse(int statusCode, string contentType, KeyValuePair<string, string>[] headers, ReadOnlyMemory<byte> body, string entityTag, DateTimeOffset? storedAt, bool compressed = false, int length = 0)
    {
        StatusCode = statusCode;
        ContentType = contentType;
        Headers = headers;
        Body = body;
        EntityTag = entityTag;
        StoredAt = storedAt;
        IsCompressed = compressed;
        Length = compressed ? length : body.Length;
    }

    public int StatusCode { get; }

    public string ContentType { get; }

    public KeyValuePair<string, string>[] Headers { get; }

    /// <summary>The body as stored: compressed when <see cref="IsCompressed"/>.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Whether <see cref="Body"/> is Brotli-compressed.</summary>
    public bool IsCompressed { get; }

    /// <summary>The length of the body as the handler sent it.</summary>
    public int Length { get; }

    /// <summary>The response's <c>ETag</c> as sent (uncompressed): the handler's own, else the hash of the body.</summary>
    public string EntityTag { get; }

    /// <summary>When the entry was stored; unknown for plain entries.</summary>
    public DateTimeOffset? StoredAt { get; }

    /// <summary>Reads a stored entry; a plain body is a 200 with the endpoint's content type.</summary>
    public static StoredResponse Read(ReadOnlyMemory<byte> stored, string defaultContentType)
    {
        ReadOnlySpan<byte> span = stored.Span;
        if (span.Length < 6 || span[0] != Magic || (span[1] != Format && span[1] != EarlierFormat))
        {
            return new StoredResponse(StatusCodes.Status200OK, defaultContentType, [], stored, EntityTags.FromBody(span), null);
        }

        bool current = span[1] == Format;
        int position = 2;
        int status = BinaryPrimitives.ReadUInt16BigEndian(span[position..]);
        position += 2;
        DateTimeOffset? storedAt = null;
        string? entityTag = null;
        bool compressed = false;
        int length = 0;
        if (current)
        {
            storedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(span[position..]));
            position += 8;
            compressed = span[position] == Brotli;
            position += 1;
            length = BinaryPrimitives.ReadInt32BigEndian(span[position..]);
            position += 4;
            entityTag = ReadString(span, ref position);
        }

        string contentType = ReadString(span, ref position);
        int count = BinaryPrimitives.ReadUInt16BigEndian(span[position..]);
        position += 2;
        var headers = new KeyValuePair<string, string>[count];
        for (int i = 0; i < count; i++)
        {
            string name = ReadString(span, ref position);
            headers[i] = new(name, ReadString(span, ref position));
        }

        ReadOnlyMemory<byte> body = stored[position..];
        return new StoredResponse(status, contentType, headers, body, entityTag ?? OwnEntityTag(headers) ?? EntityTags.FromBody(body.Span), storedAt, compressed, length);
    }

    /// <summary>
    /// The body of a stored entry, plain or in an envelope, decompressed: what <see cref="ICache"/> reads as the
    /// value.
    /// </summary>
    public static ReadOnlyMemory<byte> BodyOf(ReadOnlyMemory<byte> stored)
    {
        ReadOnlySpan<byte> span = stored.Span;
        if (span.Length < 6 || span[0] != Magic || (span[1] != Format && span[1] != EarlierFormat))
        {
            return stored;
        }

        StoredResponse response = Read(stored, string.Empty);
        return response.IsCompressed ? StoredCompression.Decompress(response.Body.Span, response.Length) : response.Body;
    }

    /// <summary>
    /// The entity tag of the body in the form <paramref name="form"/>: the tag as sent for the identity body, with
    /// <c>-br</c> or <c>-gzip</c> before its closing quote for the compressed forms (RFC 9110 §8.8.3: each
    /// representation has its own strong validator).
    /// </summary>
    public static string TagOf(string entityTag, SentCoding form) => form switch
    {
        SentCoding.Brotli when entityTag.EndsWith('"') => entityTag[..^1] + "-" + StoredCompression.Coding + "\"",
        SentCoding.Gzip when entityTag.EndsWith('"') => entityTag[..^1] + "-" + StoredCompression.GzipCoding + "\"",
        _ => entityTag,
    };

    /// <summary>
    /// Whether a GET or HEAD request's <c>If-None-Match</c> matches a body tagged <paramref name="entityTag"/>, in its
    /// plain or a compressed form (the content is the same).
    /// </summary>
    public static bool IsNotModifiedInEitherForm(HttpRequest request, string entityTag)
        => IsNotModified(request, entityTag) || IsNotModified(request, TagOf(entityTag, SentCoding.Brotli)) || IsNotModified(request, TagOf(entityTag, SentCoding.Gzip));

    /// <summary>
    /// The bytes to store for a response: the body alone when nothing else needs keeping; null when a header is
    /// too long for the envelope (over 65,535 UTF-8 bytes, or more than 65,535 headers): such a response is not
    /// stored. <paramref name="entityTag"/> is the response's <c>ETag</c>: the handler's own, else the body's hash.
    /// A body of at least <paramref name="compressionThreshold"/> bytes (0: none) without a content coding of its own
    /// is stored Brotli-compressed when that makes it at least a tenth smaller.
    /// </summary>
    public static byte[]? Encode(int statusCode, string? contentType, IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> body, string defaultContentType, DateTimeOffset storedAt, int compressionThreshold, out string entityTag)
    {
        contentType ??= string.Empty;
        string? own = OwnEntityTag(headers);
        entityTag = own ?? EntityTags.FromBody(body);
        if (statusCode == StatusCodes.Status200OK && headers.Count == 0 && string.Equals(contentType, defaultContentType, StringComparison.Ordinal)
            && body.Length < (compressionThreshold > 0 ? Math.Min(PlainBodyLimit, compressionThreshold) : PlainBodyLimit) && !(body.Length >= 2 && body[0] == Magic))
        {
            return body.ToArray();
        }

        int length = body.Length;
        byte[]? compressed = compressionThreshold > 0 && length >= compressionThreshold && !HasContentCoding(headers) ? StoredCompression.TryCompress(body) : null;
        if (compressed is not null)
        {
            body = compressed;
        }

        int headerCount = 0;
        foreach (KeyValuePair<string, string> header in headers)
        {
            headerCount += IsEntityTag(header.Key) ? 0 : 1;
        }

        if (headerCount > ushort.MaxValue || !Fits(contentType) || !Fits(entityTag))
        {
            return null;
        }

        int size = 2 + 2 + 8 + 1 + 4 + Size(entityTag) + Size(contentType) + 2 + body.Length;
        foreach (KeyValuePair<string, string> header in headers)
        {
            if (!Fits(header.Key) || !Fits(header.Value))
            {
                return null;
            }

            size += IsEntityTag(header.Key) ? 0 : Size(header.Key) + Size(header.Value);
        }

        var result = new byte[size];
        Span<byte> span = result;
        span[0] = Magic;
        span[1] = Format;
        int position = 2;
        BinaryPrimitives.WriteUInt16BigEndian(span[position..], checked((ushort)statusCode));
        position += 2;
        BinaryPrimitives.WriteInt64BigEndian(span[position..], storedAt.ToUnixTimeMilliseconds());
        position += 8;
        span[position] = compressed is null ? Identity : Brotli;
        position += 1;
        BinaryPrimitives.WriteInt32BigEndian(span[position..], length);
        position += 4;
        WriteString(span, ref position, entityTag);
        WriteString(span, ref position, contentType);
        BinaryPrimitives.WriteUInt16BigEndian(span[position..], checked((ushort)headerCount));
        position += 2;
        foreach (KeyValuePair<string, string> header in headers)
        {
            if (!IsEntityTag(header.Key))
            {
                WriteString(span, ref position, header.Key);
                WriteString(span, ref position, header.Value);
            }
        }

        body.CopyTo(span[position..]);
        return result;
    }

    /// <summary>
    /// Writes the stored response: status, content type, the handler's headers, <c>ETag</c>, <c>Age</c>, length and
    /// body (a compressed body as it is to a client that accepts Brotli, in gzip to one that accepts only that,
    /// decompressed to others, with
    /// <c>Vary: Accept-Encoding</c> either way); or, when the request's <c>If-None-Match</c> matches the entity tag,
    /// <c>304 Not Modified</c> without a body. Headers named in <paramref name="keep"/> were set on this request (by
    /// the app's filters) and stay.
    /// </summary>
    public Task WriteAsync(HttpContext http, HashSet<string>? keep, DateTimeOffset now)
        => WriteAsync(http.Request, http.Features.Get<IHttpResponseFeature>()!, http.Features.Get<IHttpResponseBodyFeature>()!, keep, now, http.RequestAborted);

    /// <summary>
    /// Writes the stored response to the given response features (those of the request, or the client's own while
    /// the handler writes to others: a soft timeout).
    /// </summary>
    public Task WriteAsync(HttpRequest request, IHttpResponseFeature response, IHttpResponseBodyFeature responseBody, HashSet<string>? keep, DateTimeOffset now, CancellationToken cancellationToken)
    {
        SentCoding form = IsCompressed ? StoredCompression.Choose(request.Headers.AcceptEncoding) : SentCoding.Identity;
        string entityTag = TagOf(EntityTag, form);
        bool notModified = StatusCode == StatusCodes.Status200OK && IsNotModifiedInEitherForm(request, EntityTag);
        response.StatusCode = notModified ? StatusCodes.Status304NotModified : StatusCode;
        if (ContentType.Length > 0 && !notModified)
        {
            response.Headers.ContentType = ContentType;
        }

        KeyValuePair<string, string>[] headers = Headers;
        if (headers.Length > 0)
        {
            WriteHeaders(response.Headers, headers, keep, notModified);
        }

        if (keep is null || !keep.Contains(HeaderNames.ETag))
        {
            response.Headers.ETag = entityTag;
        }

        if (StoredAt is { } storedAt && (keep is null || !keep.Contains(HeaderNames.Age)))
        {
            long age = Math.Max(0, (long)(now - storedAt).TotalSeconds);
            response.Headers.Age = age.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (IsCompressed)
        {
            AddVaryAcceptEncoding(response.Headers);
        }

        if (notModified)
        {
            return Task.CompletedTask;
        }

        ReadOnlyMemory<byte> body = Body;
        if (form == SentCoding.Brotli)
        {
            response.Headers.ContentEncoding = StoredCompression.Coding;
        }
        else if (form == SentCoding.Gzip)
        {
            response.Headers.ContentEncoding = StoredCompression.GzipCoding;
            body = StoredCompression.GzipShared(Body.Span, Length);
        }
        else if (IsCompressed)
        {
            body = StoredCompression.DecompressShared(Body.Span, Length);
        }

        response.Headers.ContentLength = body.Length;
        return body.IsEmpty ? Task.CompletedTask : ResponseCapture.WriteAsync(responseBody, body, cancellationToken);
    }

    private static void AddVaryAcceptEncoding(IHeaderDictionary headers)
    {
        Microsoft.Extensions.Primitives.StringValues vary = headers.Vary;
        foreach (string? value in vary)
        {
            if (value is not null && value.Contains(HeaderNames.AcceptEncoding, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }

        headers.Vary = Microsoft.Extensions.Primitives.StringValues.Concat(vary, HeaderNames.AcceptEncoding);
    }

    private static bool HasContentCoding(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        foreach (KeyValuePair<string, string> header in headers)
        {
            if (header.Key.Equals(HeaderNames.ContentEncoding, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a GET or HEAD request's <c>If-None-Match</c> matches <paramref name="entityTag"/>.</summary>
    public static bool IsNotModified(HttpRequest request, string entityTag)
    {
        Microsoft.Extensions.Primitives.StringValues ifNoneMatch = request.Headers.IfNoneMatch;
        return ifNoneMatch.Count > 0 && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && EntityTags.NoneMatch(ifNoneMatch, entityTag);
    }

    // The ETag the handler set, if any.
    private static string? OwnEntityTag(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        for (int i = 0; i < headers.Count; i++)
        {
            if (IsEntityTag(headers[i].Key))
            {
                return headers[i].Value;
            }
        }

        return null;
    }

    private static bool IsEntityTag(string name) => name.Equals(HeaderNames.ETag, StringComparison.OrdinalIgnoreCase);

    // The headers a 304 carries besides ETag (RFC 9110 §15.4.5): those that would have been sent with the 200 and
    // say how to cache it.
    private static bool BelongsToNotModified(string name) =>
        name.Equals(HeaderNames.CacheControl, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.ContentLocation, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Expires, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Vary, StringComparison.OrdinalIgnoreCase);

    private static void WriteHeaders(IHeaderDictionary target, KeyValuePair<string, string>[] headers, HashSet<string>? keep, bool notModified)
    {
        // Repeated names (several Link headers, say) were stored one value each: put them back together.
        for (int i = 0; i < headers.Length; i++)
        {
            string name = headers[i].Key;
            if ((keep is not null && keep.Contains(name)) || (notModified && !BelongsToNotModified(name)))
            {
                continue;
            }

            bool first = true;
            for (int j = 0; j < i; j++)
            {
                if (string.Equals(headers[j].Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    first = false;
                    break;
                }
            }

            if (!first)
            {
                continue;
            }

            int count = 0;
            for (int j = i; j < headers.Length; j++)
            {
                count += string.Equals(headers[j].Key, name, StringComparison.OrdinalIgnoreCase) ? 1 : 0;
            }

            if (count == 1)
            {
                target[name] = headers[i].Value;
                continue;
            }

            var values = new string[count];
            for (int j = i, k = 0; j < headers.Length; j++)
            {
                if (string.Equals(headers[j].Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    values[k++] = headers[j].Value;
                }
            }

            target[name] = values;
        }
    }

    private static int Size(string value) => 2 + Encoding.UTF8.GetByteCount(value);

    private static bool Fits(string value) => value.Length <= ushort.MaxValue / 3 || Encoding.UTF8.GetByteCount(value) <= ushort.MaxValue;

    private static void WriteString(Span<byte> span, ref int position, string value)
    {
        int length = Encoding.UTF8.GetBytes(value, span[(position + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[position..], checked((ushort)length));
        position += 2 + length;
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int position)
    {
        int length = BinaryPrimitives.ReadUInt16BigEndian(span[position..]);
        string value = Encoding.UTF8.GetString(span.Slice(position + 2, length));
        position += 2 + length;
        return value;
    }
}
