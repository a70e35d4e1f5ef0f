namespace Caching;

/// <summary>
/// The outcome of <see cref="CacheEngine.GetAsync"/>: the stored bytes on a hit, and on a miss what the engine
/// must know to store the value loaded next without racing an invalidation.
/// </summary>
public readonly struct CacheLookup
{
    internal CacheLookup(ReadOnlyMemory<byte>? value, string? namespaceName, string? observedNamespaceVersion)
    {
        Value = value;
        NamespaceName = namespaceName;
        ObservedNamespaceVersion = observedNamespaceVersion;
    }

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
