namespace Caching;

/// <summary>How one entry is stored: its time to live, tags and namespace.</summary>
public sealed class CacheEntryOptions
{
    /// <summary>Time to live; <see cref="CachingOptions.DefaultExpiration"/> when <see langword="null"/>. Must be positive.</summary>
    public TimeSpan? Expiration { get; init; }

    /// <summary>Tags the entry is filed under; invalidating one of them deletes the entry.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>
    /// The namespace the entry belongs to, such as <c>user:42</c>. Invalidating the namespace makes all its
    /// entries misses at once. Reads of a namespaced entry must name the same namespace.
    /// </summary>
    public string? Namespace { get; init; }

    /// <summary>
    /// The key prefix reported in metrics (the <c>cache.key_prefix</c> tag), such as <c>post</c>. Use a
    /// template, not a formatted value, to keep the number of distinct tags small.
    /// </summary>
    public string? KeyPrefix { get; init; }

    /// <summary>
    /// How long past its expiration the entry is kept to answer when its reload fails (the factory or handler
    /// throws, or a handler answers 5xx): stale-if-error (RFC 5861). Null: <see cref="CachingOptions.StaleIfError"/>.
    /// An invalidation removes the stale copy too.
    /// </summary>
    public TimeSpan? StaleIfError { get; init; }

    /// <summary>
    /// How long past its expiration the entry is served at once while one reload (per key, across instances) runs:
    /// stale-while-revalidate (RFC 5861). Null: <see cref="CachingOptions.StaleWhileRevalidate"/>. An invalidation
    /// removes the stale copy too.
    /// </summary>
    public TimeSpan? StaleWhileRevalidate { get; init; }
}

/// <summary>The outcome of <see cref="ICache.TryGetAsync{T}"/>.</summary>
/// <typeparam name="T">The value's type.</typeparam>
/// <param name="Found">Whether a live entry was found.</param>
/// <param name="Value">The entry's value when found.</param>
public readonly record struct CacheResult<T>(bool Found, T? Value);
