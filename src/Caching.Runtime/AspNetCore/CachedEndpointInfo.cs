namespace Caching.AspNetCore;

/// <summary>
/// What generated code knows about one cached endpoint, created once per endpoint from its
/// <see cref="CacheAttribute"/>.
/// </summary>
public sealed class CachedEndpointInfo
{
    /// <summary>The content type of a JSON response, as minimal APIs and MVC write it.</summary>
    public const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>The content type of a plain-text response (a handler that returns a string).</summary>
    public const string TextContentType = "text/plain; charset=utf-8";

    /// <summary>Creates the description.</summary>
    /// <param name="keyPrefixTemplate">The attribute's key prefix template; reported in metrics.</param>
    /// <param name="expirationSeconds">The attribute's <see cref="CacheAttribute.Expiration"/>.</param>
    /// <param name="writeThrough">The attribute's <see cref="CacheAttribute.WriteThrough"/>.</param>
    /// <param name="writesText">Whether the handler returns a string that is written as plain text.</param>
    /// <param name="varyByUser">The attribute's <see cref="CacheAttribute.VaryByUser"/>.</param>
    /// <param name="staleIfErrorSeconds">The attribute's <see cref="CacheAttribute.StaleIfError"/>; -1: the option's.</param>
    /// <param name="staleWhileRevalidateSeconds">The attribute's <see cref="CacheAttribute.StaleWhileRevalidate"/>; -1: the option's.</param>
    public CachedEndpointInfo(string keyPrefixTemplate, int expirationSeconds, bool writeThrough = false, bool writesText = false, bool varyByUser = false, int staleIfErrorSeconds = -1, int staleWhileRevalidateSeconds = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(staleIfErrorSeconds, -1);
        ArgumentOutOfRangeException.ThrowIfLessThan(staleWhileRevalidateSeconds, -1);
        StaleIfError = staleIfErrorSeconds < 0 ? null : TimeSpan.FromSeconds(staleIfErrorSeconds);
        StaleWhileRevalidate = staleWhileRevalidateSeconds < 0 ? null : TimeSpan.FromSeconds(staleWhileRevalidateSeconds);
        ArgumentException.ThrowIfNullOrEmpty(keyPrefixTemplate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expirationSeconds);
        KeyPrefixTemplate = keyPrefixTemplate;
        Expiration = TimeSpan.FromSeconds(expirationSeconds);
        WriteThrough = writeThrough;
        WritesText = writesText;
        ContentType = writesText ? TextContentType : JsonContentType;
        VaryByUser = varyByUser;
        ReadOptions = Options(null, null);
    }

    // The options of one entry of this endpoint.
    internal CacheEntryOptions Options(string? namespaceName, IReadOnlyList<string>? tags) => new()
    {
        Namespace = namespaceName,
        Tags = tags,
        Expiration = Expiration,
        KeyPrefix = KeyPrefixTemplate,
        StaleIfError = StaleIfError,
        StaleWhileRevalidate = StaleWhileRevalidate,
    };

    /// <summary>The endpoint's stale-if-error window; null: <see cref="CachingOptions.StaleIfError"/>.</summary>
    public TimeSpan? StaleIfError { get; }

    /// <summary>The endpoint's stale-while-revalidate window; null: <see cref="CachingOptions.StaleWhileRevalidate"/>.</summary>
    public TimeSpan? StaleWhileRevalidate { get; }

    // The options of a read without namespace or tags: made once, not per request.
    internal CacheEntryOptions ReadOptions { get; }

    /// <summary>Whether each user gets their own entry.</summary>
    public bool VaryByUser { get; }

    /// <summary>The key prefix template, the metrics tag.</summary>
    public string KeyPrefixTemplate { get; }

    /// <summary>Time to live of the endpoint's entries.</summary>
    public TimeSpan Expiration { get; }

    /// <summary>Whether writes store their result instead of deleting their key.</summary>
    public bool WriteThrough { get; }

    /// <summary>Whether the cached value is a string written as plain text.</summary>
    public bool WritesText { get; }

    /// <summary>The content type of a cached response.</summary>
    public string ContentType { get; }
}

/// <summary>Everything a successful write invalidates; built by generated code from the request's arguments.</summary>
/// <param name="OwnKey">The endpoint's own key, deleted (or, with write-through, overwritten).</param>
/// <param name="Keys">Further keys to delete (<see cref="CacheAttribute.ToInvalidateExtra"/>).</param>
/// <param name="Patterns">Glob patterns whose keys are deleted (<see cref="CacheAttribute.PatternToInvalidateExtra"/>).</param>
/// <param name="Tags">Tags whose entries are deleted (<see cref="CacheAttribute.InvalidateTags"/>).</param>
/// <param name="Namespaces">Namespaces invalidated (<see cref="CacheAttribute.InvalidateNamespaces"/>).</param>
/// <param name="EntryNamespace">The namespace the endpoint's own entry belongs to, for write-through.</param>
/// <param name="EntryTags">The tags the endpoint's own entry is filed under, for write-through.</param>
public sealed record InvalidationSet(
    string OwnKey,
    string[]? Keys = null,
    string[]? Patterns = null,
    string[]? Tags = null,
    string[]? Namespaces = null,
    string? EntryNamespace = null,
    string[]? EntryTags = null);
