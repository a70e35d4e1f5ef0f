namespace Caching.Stores;

/// <summary>
/// The contract every cache store fulfils. Redis (<see cref="RedisCacheStore"/>) and the in-process store
/// (<see cref="InMemoryCacheStore"/>) pass the same contract test suite, glob semantics included.
/// </summary>
/// <remarks>
/// Stores work on valid input: <see cref="CacheEngine"/> validates keys, patterns and values first. Keys
/// under <see cref="CachingOptions.InternalKeyPrefix"/> belong to the store (tag indexes, namespace versions):
/// pattern deletes never touch them.
/// </remarks>
public interface ICacheStore
{
    /// <summary>A short name for logs and metrics: <c>memory</c> or <c>redis</c>.</summary>
    string Name { get; }

    /// <summary>Returns the value stored under <paramref name="key"/>, or <see langword="null"/> when there is none or it expired.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored bytes, or <see langword="null"/>.</returns>
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> with a time to live, in one atomic operation.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The bytes to store.</param>
    /// <param name="timeToLive">How long the entry lives; positive.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the value is stored.</returns>
    ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    /// <summary>Returns the remaining time to live of <paramref name="key"/>, or <see langword="null"/> when the key does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The remaining time to live.</returns>
    ValueTask<TimeSpan?> GetTimeToLiveAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Deletes the given keys.</summary>
    /// <param name="keys">The keys; duplicates are allowed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of keys that existed and were deleted.</returns>
    ValueTask<long> DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every key matching the Redis glob <paramref name="pattern"/> (SCAN on every primary, never KEYS),
    /// streaming, with bounded memory.
    /// </summary>
    /// <param name="pattern">The glob pattern.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many keys matched and how many were deleted.</returns>
    ValueTask<PatternDeleteResult> DeleteByPatternAsync(string pattern, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every application entry and every lease this cache holds (keys under
    /// <see cref="CachingOptions.InternalKeyPrefix"/> stay), and nothing else: on a Redis shared with other data, only
    /// keys this cache wrote. A load whose lease this removes does not store. The default deletes every key but the
    /// internal ones (<see cref="DeleteByPatternAsync"/> with <c>*</c>): right for a store that holds only this
    /// cache's data.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of keys deleted.</returns>
    async ValueTask<long> DeleteAllAsync(CancellationToken cancellationToken = default)
        => (await DeleteByPatternAsync("*", cancellationToken).ConfigureAwait(false)).Deleted;

    /// <summary>Files <paramref name="key"/> under each of <paramref name="tags"/>, until the entry expires.</summary>
    /// <param name="key">The entry's key.</param>
    /// <param name="tags">The tags.</param>
    /// <param name="timeToLive">The entry's time to live: the filing lasts as long.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when every tag holds the key.</returns>
    ValueTask AddToTagsAsync(string key, IReadOnlyCollection<string> tags, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    /// <summary>Deletes every entry filed under <paramref name="tag"/>, and the tag's index.</summary>
    /// <param name="tag">The tag.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of entries deleted.</returns>
    ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes a lease on a missing key: stores <paramref name="lease"/> under <paramref name="key"/> only if the key
    /// does not exist (SET NX PX). While the lease is there, only its holder can fill the key
    /// (<see cref="SetIfLeaseAsync"/>); any invalidation of the key removes it.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease's bytes (unique per holder).</param>
    /// <param name="timeToLive">How long the lease lasts if never filled nor released.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the lease was taken.</returns>
    ValueTask<bool> TryAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads <paramref name="key"/> and, when it holds nothing, takes its lease (<paramref name="lease"/>, for
    /// <paramref name="leaseTimeToLive"/>) in the same atomic step: a miss that goes on to load costs one round trip
    /// instead of a read and a <see cref="TryAcquireLeaseAsync"/>. The default reads, then takes the lease; Redis
    /// runs one script.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease's bytes (unique per holder).</param>
    /// <param name="leaseTimeToLive">How long the lease lasts if never filled nor released.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What the key held (a value, or another holder's lease), or that the lease was taken.</returns>
    async ValueTask<LeaseRead> GetOrAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan leaseTimeToLive, CancellationToken cancellationToken = default)
    {
        byte[]? value = await GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (value is not null)
        {
            return new LeaseRead(value, false);
        }

        return new LeaseRead(null, await TryAcquireLeaseAsync(key, lease, leaseTimeToLive, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Stores <paramref name="value"/> only if <paramref name="key"/> still holds exactly <paramref name="lease"/> (atomic compare-and-set).</summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease taken before loading the value.</param>
    /// <param name="value">The value.</param>
    /// <param name="timeToLive">The entry's time to live.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when the key was invalidated or re-leased meanwhile.</returns>
    ValueTask<bool> SetIfLeaseAsync(string key, ReadOnlyMemory<byte> lease, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    /// <summary>Removes <paramref name="lease"/> from <paramref name="key"/> if it is still there (atomic compare-and-delete).</summary>
    /// <param name="key">The key.</param>
    /// <param name="lease">The lease.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when released.</returns>
    ValueTask ReleaseLeaseAsync(string key, ReadOnlyMemory<byte> lease, CancellationToken cancellationToken = default);

    /// <summary>Returns the current version token of a namespace, or <see langword="null"/> when it has none.</summary>
    /// <param name="namespaceName">The namespace, such as <c>user:42</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The version token.</returns>
    ValueTask<string?> GetNamespaceVersionAsync(string namespaceName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets the namespace's version to <paramref name="version"/> only when it has none (SET NX), for
    /// <paramref name="lifetime"/>.
    /// </summary>
    /// <param name="namespaceName">The namespace.</param>
    /// <param name="version">A new, never used version token.</param>
    /// <param name="lifetime">How long the version lives.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the version was created; <see langword="false"/> when one existed.</returns>
    ValueTask<bool> TryCreateNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the namespace's version with <paramref name="version"/>, in O(1): every entry stored under an
    /// earlier version becomes a miss.
    /// </summary>
    /// <param name="namespaceName">The namespace.</param>
    /// <param name="version">A new, never used version token.</param>
    /// <param name="lifetime">How long the version lives.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the version is replaced.</returns>
    ValueTask SetNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default);
}

/// <summary>The outcome of <see cref="ICacheStore.GetOrAcquireLeaseAsync"/>.</summary>
/// <param name="Value">What the key held: a value or another holder's lease; null when it held nothing.</param>
/// <param name="LeaseTaken">Whether the lease was taken (the key held nothing).</param>
public readonly record struct LeaseRead(byte[]? Value, bool LeaseTaken);

/// <summary>The outcome of a pattern delete.</summary>
/// <param name="Matched">Keys the scan returned (a key may be returned more than once by SCAN).</param>
/// <param name="Deleted">Keys actually deleted.</param>
public readonly record struct PatternDeleteResult(long Matched, long Deleted);
