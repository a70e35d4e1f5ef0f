using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Caching.IntegrationTests.Differential;

/// <summary>
/// What a client saw of one response, reduced to what the handler decides: status, content type, body bytes and the
/// response headers, without the per-response ones (Date, Server, Content-Length, Transfer-Encoding, the cache's own
/// X-Cache / Age / Cache-Status). Set-Cookie is kept as the cookie names only (values are per response).
/// </summary>
public sealed partial class DiffResponse
{
    private static readonly HashSet<string> Ignored = new(StringComparer.OrdinalIgnoreCase)
    {
        "Date", "Set-Cookie", "Transfer-Encoding", "Content-Length", "Server", "X-Cache", "Age", "Cache-Status", "Connection", "Keep-Alive",
    };

    private DiffResponse(int status, string? contentType, SortedDictionary<string, string> headers, byte[] body, string[] cookies, string? xCache)
    {
        Status = status;
        ContentType = contentType;
        Headers = headers;
        Body = body;
        CookieNames = cookies;
        XCache = xCache;
    }

    public int Status { get; }

    public string? ContentType { get; }

    /// <summary>Header name (lower case) → values joined with ", "; Vary without Accept-Encoding.</summary>
    public SortedDictionary<string, string> Headers { get; }

    public byte[] Body { get; }

    public string[] CookieNames { get; }

    public bool SetsCookie => CookieNames.Length > 0;

    /// <summary>The cache's X-Cache header (HIT/MISS), for messages only.</summary>
    public string? XCache { get; }

    /// <summary>Whether a cache may give this response to a different request: a 200 without cookie, no-store or private.</summary>
    public bool IsShareable
    {
        get
        {
            string cacheControl = Headers.GetValueOrDefault("cache-control") ?? string.Empty;
            return Status == 200 && !SetsCookie
                && !cacheControl.Contains("no-store", StringComparison.OrdinalIgnoreCase)
                && !cacheControl.Contains("private", StringComparison.OrdinalIgnoreCase)
                && !cacheControl.Contains("no-cache", StringComparison.OrdinalIgnoreCase);
        }
    }

    public static async Task<DiffResponse> SendAsync(HttpClient client, DiffRequest request, string side)
    {
        using HttpRequestMessage message = request.Build(side);
        using HttpResponseMessage response = await client.SendAsync(message);
        return await CaptureAsync(response);
    }

    public static async Task<DiffResponse> CaptureAsync(HttpResponseMessage response)
    {
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, IEnumerable<string>> header in response.Headers.Concat(response.Content.Headers))
        {
            if (Ignored.Contains(header.Key))
            {
                continue;
            }

            string value = string.Join(", ", header.Value);
            if (header.Key.Equals("Vary", StringComparison.OrdinalIgnoreCase))
            {
                value = string.Join(", ", value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Where(v => !v.Equals("Accept-Encoding", StringComparison.OrdinalIgnoreCase)));
                if (value.Length == 0)
                {
                    continue;
                }
            }

            headers[header.Key.ToLowerInvariant()] = value;
        }

        string[] cookies = response.Headers.TryGetValues("Set-Cookie", out IEnumerable<string>? setCookies)
            ? setCookies.Select(c => c.Split('=', 2)[0].Trim()).Order(StringComparer.Ordinal).ToArray()
            : [];
        string? xCache = response.Headers.TryGetValues("X-Cache", out IEnumerable<string>? x) ? string.Join(",", x) : null;
        return new DiffResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), headers, body, cookies, xCache);
    }

    /// <summary>
    /// The differences of a cached response from the oracle's (empty when equal). A validator (ETag, Last-Modified)
    /// the cached side adds where the handler set none is allowed; one the handler set must be the same.
    /// </summary>
    public static List<string> Differences(DiffResponse oracle, DiffResponse cached)
    {
        var differences = new List<string>();
        if (oracle.Status != cached.Status)
        {
            differences.Add($"status: cached {cached.Status}, uncached {oracle.Status}");
        }

        if (!string.Equals(oracle.ContentType, cached.ContentType, StringComparison.Ordinal))
        {
            differences.Add($"content-type: cached '{cached.ContentType}', uncached '{oracle.ContentType}'");
        }

        foreach (string name in oracle.Headers.Keys.Union(cached.Headers.Keys).Where(n => n != "content-type").Order(StringComparer.Ordinal))
        {
            string? expected = oracle.Headers.GetValueOrDefault(name);
            string? actual = cached.Headers.GetValueOrDefault(name);
            if (expected is null && name is "etag" or "last-modified")
            {
                continue;
            }

            if (!string.Equals(expected, actual, StringComparison.Ordinal))
            {
                differences.Add($"header {name}: cached {Show(actual)}, uncached {Show(expected)}");
            }
        }

        if (!oracle.CookieNames.SequenceEqual(cached.CookieNames, StringComparer.Ordinal))
        {
            differences.Add($"set-cookie names: cached [{string.Join(",", cached.CookieNames)}], uncached [{string.Join(",", oracle.CookieNames)}]");
        }

        if (oracle.NormalizedBody() != cached.NormalizedBody())
        {
            differences.Add($"body: cached {cached.ShowBody()}, uncached {oracle.ShowBody()}");
        }

        return differences;
    }

    /// <summary>The whole response as one line, for multiset comparisons and messages.</summary>
    public string Canonical(bool keepValidators)
        => $"{Status} | {ContentType} | {string.Join("; ", Headers.Where(h => h.Key != "content-type" && (keepValidators || h.Key is not ("etag" or "last-modified"))).Select(h => h.Key + ": " + h.Value))} | cookies [{string.Join(",", CookieNames)}] | {ShowBody()}";

    public string ShowBody()
    {
        string text = NormalizedBody();
        return text.Length > 300 ? $"'{text[..300]}…' ({Body.Length} bytes)" : $"'{text}' ({Body.Length} bytes)";
    }

    // Text bodies as text, with problem details' per-request traceId masked; others as hex.
    private string NormalizedBody()
    {
        bool text = ContentType is null
            || ContentType.Contains("json", StringComparison.OrdinalIgnoreCase)
            || ContentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
            || ContentType.Contains("xml", StringComparison.OrdinalIgnoreCase);
        if (!text)
        {
            return "hex:" + Convert.ToHexString(Body);
        }

        return TraceId().Replace(Encoding.UTF8.GetString(Body), "\"traceId\":\"*\"");
    }

    private static string Show(string? value) => value is null ? "(absent)" : $"'{value}'";

    [GeneratedRegex("\"traceId\"\\s*:\\s*\"[^\"]*\"")]
    private static partial Regex TraceId();
}
