namespace Caching;

/// <summary>
/// The outcome of <see cref="CacheEngine.GetAsync(string, CacheEntryOptions?, CancellationToken)"/>: the stored bytes on a hit, and on a miss what the engine
/// must know to store the value loaded next without racing an invalidation.
/// </summary>
public readonly struct CacheLookup
{
    internal CacheLookup(ReadOnlyMemory<byte>? value, string? namespaceName, string? observedNamespaceVersion, byte[]? lease = null, bool leasedByOther = false, bool leasedInThisProcess = false, ReadOnlyMemory<byte>? stale = null, DateTimeOffset freshUntil = default, byte[]? restore = null, DateTimeOffset restoreUntil = default)
    {
        Stale = stale;
        FreshUntil = freshUntil;
        Restore = restore;
        RestoreUntil = restoreUntil;
        LeasedInThisProcess = leasedInThisProcess;
        Value = value;
        NamespaceName = namespaceName;
        ObservedNamespaceVersion = observedNamespaceVersion;
        Lease = lease;
        LeasedByOther = leasedByOther;
    }

    /// <summary>
    /// The lease this miss took on the key (memcache-style), or null. Only the lease holder fills the key, and only
    /// if no invalidation removed the lease while the value was loading.
    /// </summary>
    internal byte[]? Lease { get; }

    /// <summary>
    /// On a miss, the entry's value past its freshness, within its stale window (stale-if-error,
    /// stale-while-revalidate); null when there is none.
    /// </summary>
    internal ReadOnlyMemory<byte>? Stale { get; }

    /// <summary>When the stale value's freshness ended.</summary>
    internal DateTimeOffset FreshUntil { get; }

    /// <summary>The stale entry a reload's lease replaced, put back when the reload stores nothing.</summary>
    internal byte[]? Restore { get; }

    /// <summary>The end of <see cref="Restore"/>'s stale window.</summary>
    internal DateTimeOffset RestoreUntil { get; }

    /// <summary>Whether another caller (here or on another instance) holds the key's lease: it is loading the value.</summary>
    public bool LeasedByOther { get; }

    /// <summary>Whether the lease another caller holds was taken by this process (a request that is loading it here).</summary>
    internal bool LeasedInThisProcess { get; }

    /// <summary>Whether this miss holds the key's lease.</summary>
    public bool HoldsLease => Lease is not null;

    /// <summary>Whether a live entry was found.</summary>
    public bool IsHit => Value.HasValue;

    /// <summary>The stored bytes on a hit.</summary>
    public ReadOnlyMemory<byte>? Value { get; }

    /// <summary>The namespace read, if any.</summary>
    public string? NamespaceName { get; }

    /// <summary>
    /// The namespace's version when the entry was read. A value loaded after this lookup is stored under this
    /// version, so that an invalidation that happened meanwhile still turns it into a miss.
    /// </summary>
    public string? ObservedNamespaceVersion { get; }
}
