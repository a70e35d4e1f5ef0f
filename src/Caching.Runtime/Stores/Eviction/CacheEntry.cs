namespace Caching.Stores.Eviction;

/// <summary>
/// What the in-process store holds under a key: a value (bytes, or a namespace's version string), when it expires,
/// and what the eviction policy needs to know about it.
/// </summary>
/// <remarks>Compared by reference: a removal or replacement names the exact entry it read.</remarks>
internal sealed class CacheEntry(string key, object value, long expiresAt, long weight)
{
    /// <summary>The key it is stored under.</summary>
    public string Key { get; } = key;

    /// <summary>The key's hash, computed once: eviction samples read it for entries that are not in the processor's cache.</summary>
    public int KeyHash { get; } = key.GetHashCode();

    /// <summary>The stored bytes, or a namespace's version.</summary>
    public object Value { get; } = value;

    /// <summary>When it expires (UTC ticks).</summary>
    public long ExpiresAt { get; } = expiresAt;

    /// <summary>The bytes it is accounted for (<see cref="EntryWeights"/>).</summary>
    public long Weight { get; } = weight;

    /// <summary>Its place in the policy's array of evictable entries; -1 when the policy does not hold it.</summary>
    public int Slot { get; set; } = -1;

    /// <summary>The policy's clock at its last read: among equally frequent entries, the least recent goes first.</summary>
    public long LastAccess { get; set; }
}
