namespace Caching;

/// <summary>
/// Options of the caching runtime, bound from the <c>Caching</c> configuration section and then from the
/// delegate passed to <c>AddAttributeCaching</c>. Validated at start-up.
/// </summary>
public sealed class CachingOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Caching";

    /// <summary>
    /// Whether the cache is used (configuration key <c>Caching:Enabled</c>; default <see langword="true"/>). Read
    /// through <c>IOptionsMonitor</c>: changing it in configuration at run time (a reloaded <c>appsettings.json</c>,
    /// environment-backed providers that reload) takes effect at once, without a restart. While it is
    /// <see langword="false"/>, nothing is read from or stored in the cache: every GET runs its handler as if it
    /// carried no <c>[Cache]</c> (no cache headers), <see cref="ICache"/> reads miss and its factories run each time
    /// (no single flight), and a write-through value is not stored (its key is deleted instead). Writes keep
    /// invalidating keys, patterns, tags and namespaces, so switching the cache back on never serves a value that
    /// changed while it was off.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// A StackExchange.Redis connection string, such as <c>127.0.0.1:6379</c> (configuration key
    /// <c>Caching:Redis</c>). When set, entries live in Redis; when empty, in the in-process store.
    /// An <c>IConnectionMultiplexer</c> registered in the service collection is reused instead of opening
    /// a second connection.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Use Redis through the <c>IConnectionMultiplexer</c> registered in the service collection
    /// (configuration key <c>Caching:UseRegisteredRedis</c>).
    /// </summary>
    public bool UseRegisteredRedis { get; set; }

    /// <summary>Longest key accepted, in UTF-8 bytes; longer keys are an <see cref="ArgumentException"/>. Default 1024.</summary>
    public int MaxKeyLength { get; set; } = 1024;

    /// <summary>
    /// Prefix of the keys the store keeps for itself (tag indexes, namespace versions). Application keys
    /// must not start with it, and pattern deletes never touch it. Default <c>"caching:"</c>.
    /// </summary>
    public string InternalKeyPrefix { get; set; } = "caching:";

    /// <summary>Time to live of entries stored through <see cref="ICache"/> without one. Default one hour.</summary>
    public TimeSpan DefaultExpiration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Shortest lifetime of a namespace version. A version that expires only turns its entries into misses.
    /// Default one day.
    /// </summary>
    public TimeSpan NamespaceVersionLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Stale-if-error (RFC 5861) for every entry that does not set its own: how long past its expiration an entry is
    /// kept to answer, marked stale, when its reload fails (the handler or factory throws, a handler answers 5xx).
    /// Zero (the default) turns it off. Entries then live this much longer in the store; an invalidation removes the
    /// stale copy too.
    /// </summary>
    public TimeSpan StaleIfError { get; set; }

    /// <summary>
    /// Stale-while-revalidate (RFC 5861) for every entry that does not set its own: how long past its expiration an
    /// entry is served at once, marked stale, while one reload per key (across instances, through the key's lease)
    /// runs in the request that found it stale. Zero (the default) turns it off.
    /// </summary>
    public TimeSpan StaleWhileRevalidate { get; set; }

    /// <summary>
    /// Soft timeout: when an entry's reload has a stale value at hand (within its <see cref="StaleIfError"/> window)
    /// and the handler or factory has not answered after this long, the request is answered with the stale value;
    /// the reload goes on and stores its result when it completes, unless an invalidation came in between. Zero (the
    /// default) turns it off.
    /// </summary>
    public TimeSpan SoftTimeout { get; set; }

    /// <summary>Keys asked for per SCAN call (its COUNT) during pattern deletes. Default 1000.</summary>
    public int ScanPageSize { get; set; } = 1000;

    /// <summary>Most keys sent in one UNLINK command. Default 500.</summary>
    public int DeleteBatchSize { get; set; } = 500;

    /// <summary>How often the in-process store drops expired entries and tag filings. Default one minute.</summary>
    public TimeSpan InMemorySweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The most bytes the in-process store holds, and the local level of two-level mode (<see cref="LocalCache"/>):
    /// keys (two bytes a character), values, leases, tag filings and namespace versions, each with a measured
    /// per-item overhead for the objects that hold it. Past it, the least frequently read entries are evicted, and a
    /// new key gets in only if it is asked for more often than what it would push out (TinyLFU admission); an entry
    /// larger than the limit is not stored. Evicting behaves like expiring: a value is forgotten, never served wrong.
    /// </summary>
    /// <remarks>
    /// Default: the smaller of 256 MB and a quarter of the memory available to the process
    /// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>, which follows a container's memory limit). A quarter
    /// leaves the application its own memory and the garbage collector the headroom it needs above live data; the
    /// 256 MB cap keeps a large machine from growing a heap whose full collections take long, for a cache whose hit
    /// ratio gains little from the last hundreds of megabytes (a Zipf workload's hits grow with the logarithm of the
    /// size). The process's managed heap stays within this limit plus a measured overhead (docs/benchmarks.md).
    /// </remarks>
    public long InMemorySizeLimit { get; set; } = DefaultInMemorySizeLimit();

    /// <summary>
    /// Adds an <c>X-Cache: HIT</c> or <c>X-Cache: MISS</c> header, and the RFC 9211 <c>Cache-Status</c> header
    /// (<c>Caching; hit</c>, <c>Caching; fwd=miss; stored</c>, <c>Caching; fwd=miss</c>, <c>Caching; fwd=bypass</c>),
    /// to responses of cached GET endpoints. Off by default; handy in development and in the sample.
    /// </summary>
    public bool AddCacheStatusHeader { get; set; }

    /// <summary>
    /// Spreads expirations: each entry lives its time to live plus a random extra of up to this fraction of it
    /// (0.1 = up to 10% longer), so entries written together do not expire together. Default 0 (off); at most 1.
    /// </summary>
    public double ExpirationJitter { get; set; }

    /// <summary>
    /// Stampede protection within one process: of concurrent misses on one key, only one runs the handler and
    /// the others are served its result. Default <see langword="true"/>.
    /// </summary>
    public bool CoalesceMisses { get; set; } = true;

    /// <summary>
    /// Longest time a coalesced request waits for the one loading its key before it runs the handler itself.
    /// Default 10 seconds.
    /// </summary>
    public TimeSpan CoalescingTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Leases (as in memcache): a miss takes the key's lease before loading, and the value is stored only if no
    /// invalidation came in between, so a slow read never puts back data a write just invalidated. The read that
    /// misses takes the lease in the same command (SET NX GET). Default <see langword="true"/>.
    /// </summary>
    public bool UseLeases { get; set; } = true;

    /// <summary>How long a lease lasts if its holder never fills the key (a crash, a slow handler). Default 30 seconds.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Stampede protection across instances: a miss whose key another instance is loading (it holds the lease)
    /// waits up to <see cref="CoalescingTimeout"/> for the value instead of running the handler too. Needs
    /// <see cref="UseLeases"/>. Default <see langword="false"/>.
    /// </summary>
    public bool DistributedStampedeProtection { get; set; }

    /// <summary>
    /// Two-level mode (with Redis): an in-process copy of recently read entries in front of Redis; every
    /// invalidation is published on a Redis channel and the other instances drop their copies. Default
    /// <see langword="false"/>.
    /// </summary>
    public bool LocalCache { get; set; }

    /// <summary>The longest an entry lives in the local level (two-level mode). Default 30 seconds.</summary>
    public TimeSpan LocalCacheExpiration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Store failures in a row after which calls are suspended (circuit breaker). Default 3.</summary>
    public int CircuitBreakerFailures { get; set; } = 3;

    /// <summary>How long store calls stay suspended after the breaker opens. Default 5 seconds.</summary>
    public TimeSpan CircuitBreakerDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most failed invalidations kept for replay once the store is back. Past it, every application entry is
    /// flushed on recovery instead, so no stale entry survives the outage. Default 10,000.
    /// </summary>
    public int MaxPendingInvalidations { get; set; } = 10_000;

    /// <summary>How often pending invalidations are retried while the store is failing. Default 1 second.</summary>
    public TimeSpan InvalidationRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Largest response body, in bytes, that is held back and stored: a longer body streams to the client as the
    /// handler writes it and is not cached. Default 16 MiB.
    /// </summary>
    public int MaximumBodySize { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Response bodies of at least this many bytes are stored compressed with Brotli, once, when stored: a hit whose
    /// request accepts <c>br</c> is sent the stored bytes as they are (<c>Content-Encoding: br</c>), other clients
    /// get them decompressed, and both carry <c>Vary: Accept-Encoding</c>. A body that Brotli does not shrink by at
    /// least a tenth (images, archives) is stored as it is. Default 1024; 0 turns stored compression off.
    /// </summary>
    public int CompressionThreshold { get; set; } = 1024;

    /// <summary>Whether entries live in Redis (a connection string or the registered multiplexer).</summary>
    public bool UsesRedis => UseRegisteredRedis || !string.IsNullOrWhiteSpace(Redis);

    /// <summary>Stores entries in Redis, connecting with <paramref name="connectionString"/> unless an <c>IConnectionMultiplexer</c> is registered.</summary>
    /// <param name="connectionString">A StackExchange.Redis connection string, such as <c>127.0.0.1:6379</c>.</param>
    /// <returns>These options.</returns>
    public CachingOptions UseRedis(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ArgumentException("A Redis connection string such as \"127.0.0.1:6379\" is required; call UseRedis() to reuse a registered IConnectionMultiplexer.", nameof(connectionString));
        }

        Redis = connectionString;
        return this;
    }

    /// <summary>Stores entries in Redis through the <c>IConnectionMultiplexer</c> registered in the service collection.</summary>
    /// <returns>These options.</returns>
    public CachingOptions UseRedis()
    {
        UseRegisteredRedis = true;
        return this;
    }

    /// <summary>Stores entries in the in-process store (the default).</summary>
    /// <returns>These options.</returns>
    public CachingOptions UseInMemory()
    {
        Redis = null;
        UseRegisteredRedis = false;
        return this;
    }

    // The smaller of 256 MB and a quarter of the memory available to the process (see InMemorySizeLimit).
    private static long DefaultInMemorySizeLimit()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long quarter = available > 0 ? available / 4 : long.MaxValue;
        return Math.Min(256L * 1024 * 1024, quarter);
    }
}
