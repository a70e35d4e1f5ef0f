namespace Caching;

/// <summary>
/// The cache for code that is not a handler: warmers, background jobs, admin endpoints. It addresses the same
/// entries as <see cref="CacheAttribute"/>: build keys with <see cref="Keys.CacheKey"/> and patterns with
/// <see cref="Keys.CachePattern"/>. Values are serialized with System.Text.Json through the application's
/// <c>Microsoft.AspNetCore.Http.Json.JsonOptions</c>, as minimal APIs write them.
/// </summary>
public interface ICache
{
    /// <summary>Returns the cached value, or runs <paramref name="factory"/>, stores its result and returns it.</summary>
    /// <remarks>
    /// The endpoints' read-through: concurrent misses of one key in a process run the factory once, across
    /// instances the key's lease lets one load while the others wait for its value, and a value loaded while an
    /// invalidation came in is not stored. If the store fails, the factory's value is returned, unstored.
    /// </remarks>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="factory">Loads the value on a miss; a <see langword="null"/> result is returned but not stored.</param>
    /// <param name="options">Time to live, tags and namespace.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The cached or loaded value.</returns>
    ValueTask<T> GetOrCreateAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Reads a value without loading it.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="options">The namespace the entry belongs to, if any.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether it was found, and the value.</returns>
    ValueTask<CacheResult<T>> TryGetAsync<T>(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Stores a value (write-through, warming).</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value; not <see langword="null"/>.</param>
    /// <param name="options">Time to live, tags and namespace.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the value is stored.</returns>
    ValueTask SetAsync<T>(string key, T value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes entries by key.</summary>
    /// <param name="keys">The keys.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of entries that existed and were deleted.</returns>
    ValueTask<long> InvalidateKeysAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default);

    /// <summary>Deletes every entry whose key matches a Redis glob pattern (SCAN, never KEYS).</summary>
    /// <param name="pattern">The pattern, such as <c>CachePattern.Format($"user_{id}_posts:*")</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of entries deleted.</returns>
    ValueTask<long> InvalidatePatternAsync(string pattern, CancellationToken cancellationToken = default);

    /// <summary>Deletes every entry filed under a tag.</summary>
    /// <param name="tag">The tag.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of entries deleted.</returns>
    ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default);

    /// <summary>Invalidates every entry of a namespace at once, in O(1).</summary>
    /// <param name="namespaceName">The namespace, such as <c>user:42</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the namespace is invalidated.</returns>
    ValueTask InvalidateNamespaceAsync(string namespaceName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every entry this cache stored (endpoints, <see cref="ICache"/>, HybridCache), on every instance.
    /// Loads in flight when it runs do not store. On a Redis shared with other data, only keys this cache wrote are
    /// deleted; its own internal keys (namespace versions, tag indexes) stay.
    /// </summary>
    /// <remarks>
    /// Cost on Redis: a SCAN of the whole database (every primary of a cluster) reading the first 20 bytes of each
    /// string key, to find leases; one ZSCAN per non-empty per-slot index of stored keys; and an UNLINK per page of
    /// keys. Every store files its key in that index, in the same script. On the in-process store, one pass over
    /// its entries. It fails as a whole (and changes nothing it could not finish) when a primary is down.
    /// </remarks>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of keys deleted (entries and leases).</returns>
    ValueTask<long> InvalidateAllAsync(CancellationToken cancellationToken = default);
}
