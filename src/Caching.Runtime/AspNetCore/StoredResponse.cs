using System.Buffers.Binary;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Caching.AspNetCore;

/// <summary>
/// A cached response as it is stored: the common case (200, the endpoint's usual content type, no headers of the
/// handler's own) is the body alone, exactly the JSON or text the handler sent, readable with redis-cli and
/// interchangeable with entries that warmers write through <see cref="ICache"/>; anything else carries its status,
/// content type and headers in a small envelope before the body.
/// </summary>
/// <remarks>
/// Envelope: <c>0xCA 0x04</c>, status (2 bytes), content type, header count (2 bytes), each header's name and
/// value, then the body; strings are a 2-byte length and UTF-8. <c>0xCA</c> never starts valid UTF-8, so no JSON
/// or text body is ever mistaken for an envelope.
/// </remarks>
internal readonly struct StoredResponse
{
    private const byte Magic = 0xCA;
    private const byte Format = 0x04;

    private StoredResponse(int statusCode, string contentType, KeyValuePair<string, string>[] headers, ReadOnlyMemory<byte> body)
    {
        StatusCode = statusCode;
        ContentType = contentType;
        Headers = headers;
        Body = body;
    }

    public int StatusCode { get; }

    public string ContentType { get; }

    public KeyValuePair<string, string>[] Headers { get; }

    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Reads a stored entry; a plain body is a 200 with the endpoint's content type.</summary>
    public static StoredResponse Read(ReadOnlyMemory<byte> stored, string defaultContentType)
    {
        ReadOnlySpan<byte> span = stored.Span;
        if (span.Length < 6 || span[0] != Magic || span[1] != Format)
        {
            return new StoredResponse(StatusCodes.Status200OK, defaultContentType, [], stored);
        }

        int position = 2;
        int status = BinaryPrimitives.ReadUInt16BigEndian(span[position..]);
        position += 2;
        string contentType = ReadString(span, ref position);
        int count = BinaryPrimitives.ReadUInt16BigEndian(span[position..]);
        position += 2;
        var headers = new KeyValuePair<string, string>[count];
        for (int i = 0; i < count; i++)
        {
            string name = ReadString(span, ref position);
            headers[i] = new(name, ReadString(span, ref position));
        }

        return new StoredResponse(status, contentType, headers, stored[position..]);
    }

    /// <summary>
    /// The bytes to store for a response: the body alone when nothing else needs keeping; null when a header is
    /// too long for the envelope (over 65,535 UTF-8 bytes, or more than 65,535 headers): such a response is not stored.
    /// </summary>
    public static byte[]? Encode(int statusCode, string? contentType, IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> body, string defaultContentType)
    {
        contentType ??= string.Empty;
        if (statusCode == StatusCodes.Status200OK && headers.Count == 0 && string.Equals(contentType, defaultContentType, StringComparison.Ordinal)
            && !(body.Length >= 2 && body[0] == Magic))
        {
            return body.ToArray();
        }

        if (headers.Count > ushort.MaxValue || !Fits(contentType))
        {
            return null;
        }

        int size = 2 + 2 + Size(contentType) + 2 + body.Length;
        foreach (KeyValuePair<string, string> header in headers)
        {
            if (!Fits(header.Key) || !Fits(header.Value))
            {
                return null;
            }

            size += Size(header.Key) + Size(header.Value);
        }

        var result = new byte[size];
        Span<byte> span = result;
        span[0] = Magic;
        span[1] = Format;
        int position = 2;
        BinaryPrimitives.WriteUInt16BigEndian(span[position..], checked((ushort)statusCode));
        position += 2;
        WriteString(span, ref position, contentType);
        BinaryPrimitives.WriteUInt16BigEndian(span[position..], checked((ushort)headers.Count));
        position += 2;
        foreach (KeyValuePair<string, string> header in headers)
        {
            WriteString(span, ref position, header.Key);
            WriteString(span, ref position, header.Value);
        }

        body.CopyTo(span[position..]);
        return result;
    }

    /// <summary>Writes the stored response: status, content type, the handler's headers, length and body.</summary>
    public Task WriteAsync(HttpContext http) => WriteAsync(http, null);

    /// <summary>Writes the stored response, leaving alone the headers named in <paramref name="keep"/> (set on this request).</summary>
    public Task WriteAsync(HttpContext http, HashSet<string>? keep)
    {
        HttpResponse response = http.Response;
        response.StatusCode = StatusCode;
        if (ContentType.Length > 0)
        {
            response.ContentType = ContentType;
        }

        KeyValuePair<string, string>[] headers = Headers;
        if (headers.Length > 0)
        {
            WriteHeaders(response, headers, keep);
        }

        response.ContentLength = Body.Length;
        return Body.IsEmpty ? Task.CompletedTask : ResponseCapture.WriteAsync(http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()!, Body, http.RequestAborted);
    }

    private static void WriteHeaders(HttpResponse response, KeyValuePair<string, string>[] headers, HashSet<string>? keep)
    {
        // Repeated names (several Link headers, say) were stored one value each: put them back together.
        for (int i = 0; i < headers.Length; i++)
        {
            string name = headers[i].Key;
            if (keep is not null && keep.Contains(name))
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
                response.Headers[name] = headers[i].Value;
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

            response.Headers[name] = values;
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
