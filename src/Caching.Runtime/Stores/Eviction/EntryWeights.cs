namespace Caching.Stores.Eviction;

/// <summary>
/// The bytes the in-process store accounts for what it holds: the characters of keys (two bytes each), the bytes
/// of values, and a fixed overhead per item for the objects that hold them.
/// </summary>
/// <remarks>
/// The overheads were measured (docs/benchmarks.md, "Bounded in-process store"): 5,000,000 distinct keys through a
/// 64 MB limit, managed heap after a full collection divided by the entries held. Per entry on x64: the dictionary's
/// node (48 bytes) and bucket (8 to 16), the <see cref="CacheEntry"/> (64), the value's array header (24), the key's
/// string header (22, padded), the policy's slot (8 to 16), rounded up.
/// </remarks>
internal static class EntryWeights
{
    /// <summary>Bytes per entry besides its key's characters and its value's bytes.</summary>
    public const int EntryOverhead = 200;

    /// <summary>Bytes per tag filing besides the key's characters: the tag index's node and bucket.</summary>
    public const int FilingOverhead = 72;

    /// <summary>Bytes per tag index besides the tag's characters: the dictionary object, its buckets and locks.</summary>
    public const int TagIndexOverhead = 640;

    /// <summary>The weight of an entry of <paramref name="valueLength"/> bytes under <paramref name="key"/>.</summary>
    public static long Entry(string key, int valueLength) => EntryOverhead + (2L * key.Length) + valueLength;

    /// <summary>The weight of a namespace's version.</summary>
    public static long NamespaceVersion(string namespaceName, string version) => EntryOverhead + (2L * namespaceName.Length) + (2L * version.Length);

    /// <summary>The weight of one key filed under one tag.</summary>
    public static long Filing(string key) => FilingOverhead + (2L * key.Length);

    /// <summary>The weight of a tag's index (its filings are counted one by one).</summary>
    public static long TagIndex(string tag) => TagIndexOverhead + (2L * tag.Length);
}
