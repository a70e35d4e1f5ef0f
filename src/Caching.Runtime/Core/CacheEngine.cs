using System.Diagnostics;
using System.Text;
using Caching.Diagnostics;
using Caching.Keys;
using Caching.Stores;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Caching;

/// <summary>
/// Reads, stores and invalidates raw entries on the configured <see cref="ICacheStore"/>: validates every key,
/// pattern and value, applies namespaces, and records metrics. Generated code and <see cref="ICache"/> both
/// call it; application code usually wants <see cref="ICache"/>.
/// </summary>
public sealed class CacheEngine
{
    /// <summary>Between a key and the user id of a per-user entry (<see cref="CacheAttribute.VaryByUser"/>): never in an encoded value.</summary>
    public const string UserSeparator = "|user:";

    /// <summary>The tag every per-user entry of <paramref name="key"/> is filed under; invalidating the key clears it.</summary>
    /// <param name="key">The key without a user.</param>
    /// <returns>The tag.</returns>
    public static string VariantTag(string key) => "vary:" + key;

    /// <summary>The key prefix reported in metrics when the caller names none.</summary>
    public const string UnspecifiedKeyPrefix = "(unspecified)";

    private readonly ICacheStore _store;
    private readonly CachingOptions _options;
    private readonly CachingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly StoreCircuitBreaker _breaker;
    private readonly MissCoalescer? _coalescer;
    private readonly TimeProvider _time;

    /// <summary>Creates the engine.</summary>
    /// <param name="store">The store entries live in.</param>
    /// <param name="options">The caching options.</param>
    /// <param name="metrics">The metrics to record.</param>
    /// <param name="logger">The logger.</param>
    public CacheEngine(ICacheStore store, IOptions<CachingOptions> options, CachingMetrics metrics, ILogger<CacheEngine> logger)
        : this(store, options, metrics, logger, TimeProvider.System)
    {
    }

    /// <summary>Creates the engine.</summary>
    /// <param name="store">The store entries live in.</param>
    /// <param name="options">The caching options.</param>
    /// <param name="metrics">The metrics to record.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="timeProvider">The clock of the circuit breaker.</param>
    [Microsoft.Extensions.DependencyInjection.ActivatorUtilitiesConstructor]
    public CacheEngine(ICacheStore store, IOptions<CachingOptions> options, CachingMetrics metrics, ILogger<CacheEngine> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        _breaker = new StoreCircuitBreaker(_options.CircuitBreakerFailures, _options.CircuitBreakerDuration, _time);
        _coalescer = _options.CoalesceMisses ? new MissCoalescer(_options.CoalescingTimeout) : null;
    }

    /// <summary>
    /// This process's single flight (null when <see cref="CachingOptions.CoalesceMisses"/> is off). The engine
    /// tells it of every invalidation once the store has carried it out.
    /// </summary>
    internal MissCoalescer? Coalescer => _coalescer;

    /// <summary>Forgets every load in flight: an invalidation happened (or was queued) outside the engine's own calls.</summary>
    internal void ForgetLoadsInFlight() => _coalescer?.ForgetAll();

    /// <summary>Failed invalidations waiting for the store; while any wait, lookups are misses.</summary>
    internal PendingInvalidations? Backlog { get; set; }

    /// <summary><see cref="CachingOptions.Enabled"/> as it is now; always on for an engine built outside dependency injection.</summary>
    internal CachingSwitch Switch { get; init; } = CachingSwitch.AlwaysOn;

    /// <summary>
    /// Whether the cache is in use (<see cref="CachingOptions.Enabled"/>, read at run time): while it is not, lookups
    /// miss without reading the store and values are not stored; invalidations go on.
    /// </summary>
    public bool IsEnabled => Switch.IsOn;

    /// <summary>Whether store calls are suspended after repeated failures (they fail at once with <see cref="CacheStoreUnavailableException"/>).</summary>
    public bool IsStoreSuspended => _breaker.IsOpen;

    /// <summary>Store failures in a row so far (0 when the last call succeeded).</summary>
    public int ConsecutiveStoreFailures => _breaker.ConsecutiveFailures;

    /// <summary>The store entries live in.</summary>
    public ICacheStore Store => _store;

    /// <summary>Reads an entry.</summary>
    /// <param name="key">The key.</param>
    /// <param name="namespaceName">The namespace the entry belongs to, or <see langword="null"/>.</param>
    /// <param name="keyPrefix">The key prefix reported in metrics.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// The lookup: the bytes on a hit; on a miss, what <see cref="SetAsync"/> needs to store safely, the key's lease
    /// included (give it back with <see cref="ReleaseLeaseAsync"/> when nothing is stored).
    /// </returns>
    public ValueTask<CacheLookup> GetAsync(string key, string? namespaceName, string? keyPrefix, CancellationToken cancellationToken = default)
        => GetAsync(key, new CacheEntryOptions { Namespace = namespaceName, KeyPrefix = keyPrefix }, cancellationToken);

    /// <summary>Reads an entry; on a miss, takes the key's lease (namespaced or not).</summary>
    /// <param name="key">The key.</param>
    /// <param name="entry">The entry's namespace, tags (filed with the lease, before loading), time to live and metrics prefix.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lookup: the bytes on a hit; on a miss, the lease (if taken) that <see cref="SetAsync"/> needs.</returns>
    public ValueTask<CacheLookup> GetAsync(string key, CacheEntryOptions? entry, CancellationToken cancellationToken = default)
        => GetAsync(key, entry, takeLease: true, cancellationToken);

    /// <summary>Reads an entry; on a miss, takes the key's lease (namespaced or not) if asked to.</summary>
    /// <param name="key">The key.</param>
    /// <param name="entry">The entry's namespace, tags (filed with the lease, before loading), time to live and metrics prefix.</param>
    /// <param name="takeLease">Whether a miss takes the key's lease (needed to store the value loaded next).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lookup.</returns>
    public ValueTask<CacheLookup> GetAsync(string key, CacheEntryOptions? entry, bool takeLease, CancellationToken cancellationToken = default)
        => GetAsync(key, entry, takeLease, LookupCounting.All, cancellationToken);

    // counting: HitsOnly for a first look whose miss the caller counts once it knows how the request is served;
    // None for a read again within a request whose lookup was already counted.
    internal async ValueTask<CacheLookup> GetAsync(string key, CacheEntryOptions? entry, bool takeLease, LookupCounting counting, CancellationToken cancellationToken)
    {
        string? namespaceName = entry?.Namespace;
        string? keyPrefix = entry?.KeyPrefix;
        ValidateKey(key);
        keyPrefix ??= UnspecifiedKeyPrefix;
        if (!Switch.IsOn)
        {
            // Caching is switched off: nothing is read, and the miss holds no lease, so nothing is stored either.
            return new CacheLookup(null, namespaceName, null, leasedByOther: true);
        }

        if (Backlog is { HasPending: true })
        {
            // Invalidations missed during an outage are not replayed yet: any entry could be stale, and a value
            // loaded now could predate a queued invalidation, so nothing is stored either.
            RecordLookup(hit: false, keyPrefix ?? UnspecifiedKeyPrefix, counting);
            return new CacheLookup(null, namespaceName, null, leasedByOther: true);
        }

        if (namespaceName is null)
        {
            _breaker.ThrowIfOpen();
            if (takeLease && _options.UseLeases)
            {
                return await GetOrLeaseAsync(key, entry, keyPrefix, counting, cancellationToken).ConfigureAwait(false);
            }

            byte[]? value = await Guard(_store.GetAsync(key, cancellationToken)).ConfigureAwait(false);
            Held plain = value is null ? default : Interpret(value, null);
            if (plain.IsLease)
            {
                // Someone is loading it right now.
                RecordLookup(hit: false, keyPrefix, counting);
                return new CacheLookup(null, null, null, leasedByOther: true, stale: plain.Stale, freshUntil: plain.FreshUntil);
            }

            // An entry written by an endpoint that names a namespace, read without one, is not a value: a miss.
            RecordLookup(plain.Fresh is not null, keyPrefix, counting);
            if (plain.Fresh is { } fresh)
            {
                return new CacheLookup(fresh, null, null);
            }

            return takeLease ? await LeaseAsync(key, entry, null, null, cancellationToken).ConfigureAwait(false) : new CacheLookup(null, null, null, leasedByOther: _options.UseLeases, stale: plain.Stale, freshUntil: plain.FreshUntil);
        }

        ValidateName(namespaceName, "namespace", nameof(namespaceName));

        // Both reads go out together: one round trip on a pipelined connection.
        _breaker.ThrowIfOpen();
        ValueTask<byte[]?> read = Guard(_store.GetAsync(key, cancellationToken));
        ValueTask<string?> version = Guard(_store.GetNamespaceVersionAsync(namespaceName, cancellationToken));
        byte[]? stored = await read.ConfigureAwait(false);
        string? currentVersion = await version.ConfigureAwait(false);
        Held held = stored is null ? default : Interpret(stored, currentVersion ?? string.Empty);
        if (held.Fresh is { } payload)
        {
            RecordLookup(hit: true, keyPrefix, counting);
            return new CacheLookup(payload, namespaceName, currentVersion);
        }

        RecordLookup(hit: false, keyPrefix, counting);
        if (held.IsLease)
        {
            // Someone is loading it right now.
            return new CacheLookup(null, namespaceName, currentVersion, leasedByOther: true, stale: held.Stale, freshUntil: held.FreshUntil);
        }

        if (!takeLease)
        {
            return new CacheLookup(null, namespaceName, currentVersion, leasedByOther: _options.UseLeases, stale: held.Stale, freshUntil: held.FreshUntil);
        }

        if (held.Stale is not null && _options.UseLeases && currentVersion is not null)
        {
            // Past its freshness, within its stale window: the reload's lease replaces it, carrying it for readers.
            return await TakeStaleLeaseAsync(key, entry, stored!, held, namespaceName, currentVersion, cancellationToken).ConfigureAwait(false);
        }

        if (stored is not null && _options.UseLeases)
        {
            // An entry of an earlier namespace version (or one written without this namespace): never served to this
            // reader again. Removed only if it is still exactly what was read (compare-and-delete), so that a lease
            // or a value stored since stays, then the lease is taken as for an absent key.
            await Guard(_store.ReleaseLeaseAsync(key, stored, cancellationToken)).ConfigureAwait(false);
        }

        return await LeaseAsync(key, entry, namespaceName, currentVersion, cancellationToken).ConfigureAwait(false);
    }

    // A plain key's read that takes the lease on a miss in the same step (one round trip). The tags are filed once
    // the lease is held and before the caller loads: a tag invalidation from then on removes the lease, and one that
    // came earlier was for a write the load will read (its data was committed before it invalidated).
    private async ValueTask<CacheLookup> GetOrLeaseAsync(string key, CacheEntryOptions? entry, string keyPrefix, LookupCounting counting, CancellationToken cancellationToken)
    {
        byte[] lease = NamespaceEnvelope.NewLease();
        LeaseRead read = await Guard(_store.GetOrAcquireLeaseAsync(key, lease, _options.LeaseDuration, cancellationToken)).ConfigureAwait(false);
        if (read.Value is { } value)
        {
            // A value; someone else's lease (it is loading right now); an entry past its freshness, kept for its stale
            // window, whose reload takes the lease now; or an entry written by an endpoint that names a namespace,
            // which read without one is not a value: a miss whose lease is not free.
            Held held = Interpret(value, null);
            RecordLookup(held.Fresh is not null, keyPrefix, counting);
            if (held.Fresh is { } fresh)
            {
                return new CacheLookup(fresh, null, null);
            }

            if (!held.IsLease && held.IsTimed && (held.Stale is not null || _time.GetUtcNow() >= held.StaleUntil))
            {
                // Past its freshness (or a stale lease past its deadline): its reload takes the lease by compare-and-set.
                return await TakeStaleLeaseAsync(key, entry, value, held, null, null, cancellationToken).ConfigureAwait(false);
            }

            return new CacheLookup(null, null, null, leasedByOther: true, leasedInThisProcess: held.LeaseOfThisProcess, stale: held.Stale, freshUntil: held.FreshUntil);
        }

        RecordLookup(hit: false, keyPrefix, counting);
        if (!read.LeaseTaken)
        {
            // Filled or leased between the read and the lease (the default two-step read): not this caller's.
            return new CacheLookup(null, null, null, leasedByOther: true);
        }

        if (entry?.Tags is { Count: > 0 })
        {
            try
            {
                await FileTagsAsync(key, entry, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await ReleaseQuietlyAsync(key, lease).ConfigureAwait(false);
                throw;
            }
        }

        return new CacheLookup(null, null, null, lease);
    }

    // What a key holds, as a reader sees it: a fresh value; a lease (plain, or a stale one carrying the entry it
    // replaced, until its deadline); an entry past its freshness (IsTimed without Fresh), with its value when still
    // within its stale window; or nothing usable (an entry of another namespace version, or written with a namespace
    // and read without). Timed: the timed entry's own bytes (inside a stale lease, the entry it replaced).
    private readonly record struct Held(ReadOnlyMemory<byte>? Fresh, ReadOnlyMemory<byte>? Stale, DateTimeOffset FreshUntil, DateTimeOffset StaleUntil, bool IsTimed, bool IsLease, bool LeaseOfThisProcess, byte[]? Timed = null);

    // namespaceVersion: null for a key read without a namespace; else the namespace's current version ("" if none).
    private Held Interpret(byte[] stored, string? namespaceVersion)
    {
        if (NamespaceEnvelope.IsLease(stored))
        {
            return new Held(null, null, default, default, false, true, NamespaceEnvelope.IsThisProcessLease(stored));
        }

        if (TimedEntry.IsStaleLease(stored))
        {
            // Held until its deadline; past it, the stale copy is there for the next reader to take the lease over.
            byte[] timedEntry = TimedEntry.StaleOf(stored);
            Held replaced = Interpret(timedEntry, namespaceVersion);
            bool held = _time.GetUtcNow() < TimedEntry.DeadlineOf(stored);
            return new Held(null, replaced.Stale, replaced.FreshUntil, replaced.StaleUntil, true, held, held && NamespaceEnvelope.IsThisProcessLease(TimedEntry.LeaseOf(stored)), timedEntry);
        }

        bool timed = TimedEntry.TryRead(stored, out DateTimeOffset freshUntil, out DateTimeOffset staleUntil, out byte[] inner);
        ReadOnlyMemory<byte>? value = null;
        if (namespaceVersion is null)
        {
            if (!NamespaceEnvelope.IsEnvelope(inner))
            {
                value = inner;
            }
        }
        else if (NamespaceEnvelope.TryUnwrap(inner, namespaceVersion, out ReadOnlyMemory<byte> payload))
        {
            value = payload;
        }

        if (!timed)
        {
            return new Held(value, null, default, default, false, false, false);
        }

        DateTimeOffset now = _time.GetUtcNow();
        return now < freshUntil
            ? new Held(value, null, freshUntil, staleUntil, true, false, false, stored)
            : new Held(null, now < staleUntil ? value : null, freshUntil, staleUntil, true, false, false, stored);
    }

    // The reload of an entry past its freshness takes a stale lease by compare-and-set on what it read (the entry, or
    // a stale lease past its deadline): one reload per key across instances, and the others still see the stale entry
    // inside the lease. The key lives for the rest of the stale window (at least LeaseDuration, so that a reload near
    // its end can still store), the lease only until its deadline: a reload that crashes or runs longer leaves the
    // stale copy in place for the next reader to take over. Lost to another reader (or a write or invalidation
    // meanwhile): leased by another, with the stale value it read. An entry whose window has ended is replaced by a
    // plain lease the same way.
    private async ValueTask<CacheLookup> TakeStaleLeaseAsync(string key, CacheEntryOptions? entry, byte[] stored, Held held, string? namespaceName, string? observedVersion, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        TimeSpan left = held.StaleUntil - now;
        byte[]? restore = held.Stale is null ? null : held.Timed;
        byte[] lease = restore is null ? NamespaceEnvelope.NewLease() : TimedEntry.StaleLease(NamespaceEnvelope.NewLease(), now + _options.LeaseDuration, restore);
        TimeSpan leaseTtl = restore is not null && left > _options.LeaseDuration ? left : _options.LeaseDuration;
        bool taken = await Guard(_store.SetIfLeaseAsync(key, stored, lease, leaseTtl, cancellationToken)).ConfigureAwait(false);
        if (!taken)
        {
            return new CacheLookup(null, namespaceName, observedVersion, leasedByOther: true, stale: held.Stale, freshUntil: held.FreshUntil);
        }

        if (entry?.Tags is { Count: > 0 })
        {
            try
            {
                await FileTagsAsync(key, entry, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Nothing will be loaded: the stale entry goes back (or the lease, if there was none).
                await GiveBackQuietlyAsync(key, lease, restore, held.StaleUntil).ConfigureAwait(false);
                throw;
            }
        }

        return new CacheLookup(null, namespaceName, observedVersion, lease, stale: held.Stale, freshUntil: held.FreshUntil, restore: restore, restoreUntil: held.StaleUntil);
    }

    /// <summary>
    /// The longest an entry is kept past its expiration: the larger of its stale-if-error and
    /// stale-while-revalidate windows (zero: none).
    /// </summary>
    internal TimeSpan StaleWindow(CacheEntryOptions? entry)
    {
        TimeSpan ifError = StaleIfError(entry);
        TimeSpan whileRevalidate = StaleWhileRevalidate(entry);
        return ifError > whileRevalidate ? ifError : whileRevalidate;
    }

    /// <summary>The entry's stale-if-error window: its own, else <see cref="CachingOptions.StaleIfError"/>.</summary>
    internal TimeSpan StaleIfError(CacheEntryOptions? entry) => Positive(entry?.StaleIfError ?? _options.StaleIfError);

    /// <summary>The entry's stale-while-revalidate window: its own, else <see cref="CachingOptions.StaleWhileRevalidate"/>.</summary>
    internal TimeSpan StaleWhileRevalidate(CacheEntryOptions? entry) => Positive(entry?.StaleWhileRevalidate ?? _options.StaleWhileRevalidate);

    /// <summary>The engine's clock.</summary>
    internal TimeProvider Time => _time;

    private static TimeSpan Positive(TimeSpan value) => value > TimeSpan.Zero ? value : TimeSpan.Zero;

    /// <summary>
    /// Files <paramref name="key"/> under the entry's tags, for the longest the entry can live. Called once the key's
    /// lease is held and before the value is loaded: a tag invalidation from then on removes the lease.
    /// </summary>
    internal async ValueTask FileTagsAsync(string key, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        if (entry.Tags is { Count: > 0 } tags)
        {
            await Guard(_store.AddToTagsAsync(key, tags, LongestTagFiling(entry), cancellationToken)).ConfigureAwait(false);
        }
    }

    // Gives a stale lease back after a failure, putting back the entry it replaced while its window lasts.
    private async ValueTask GiveBackQuietlyAsync(string key, byte[] lease, byte[]? restore, DateTimeOffset restoreUntil)
    {
        TimeSpan left = restoreUntil - _time.GetUtcNow();
        if (restore is null || left <= TimeSpan.Zero)
        {
            await ReleaseQuietlyAsync(key, lease).ConfigureAwait(false);
            return;
        }

        try
        {
            await _store.SetIfLeaseAsync(key, lease, restore, left, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.StoreWriteFailed(_logger, key, ex);
        }
    }

    // Gives a lease back after a failure; if that fails too, the lease expires by itself (LeaseDuration).
    private async ValueTask ReleaseQuietlyAsync(string key, byte[] lease)
    {
        try
        {
            await _store.ReleaseLeaseAsync(key, lease, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.StoreWriteFailed(_logger, key, ex);
        }
    }

    // Tags are filed for the longest the entry can live: its TTL with the most jitter, plus the lease.
    private TimeSpan LongestTagFiling(CacheEntryOptions entry)
    {
        TimeSpan ttl = entry.Expiration ?? _options.DefaultExpiration;
        return ttl + TimeSpan.FromTicks((long)(ttl.Ticks * Math.Max(0, _options.ExpirationJitter))) + StaleWindow(entry) + _options.LeaseDuration;
    }

    // A miss takes the key's lease (SET NX), tags filed first: an invalidation of the key, by key, pattern or
    // tag, from now on removes the lease, and the value loaded next is then not stored. A write of a fresh value
    // replaces the lease, which fails the loader's compare-and-set too. For a namespaced key the lookup also
    // carries the namespace version seen, which the value is stored under.
    private async ValueTask<CacheLookup> LeaseAsync(string key, CacheEntryOptions? entry, string? namespaceName, string? observedVersion, CancellationToken cancellationToken)
    {
        if (!_options.UseLeases)
        {
            return new CacheLookup(null, namespaceName, observedVersion);
        }

        if (entry?.Tags is { Count: > 0 } tags)
        {
            // Filed for the longest the entry can live: its TTL with the most jitter and its stale window, plus the lease.
            await Guard(_store.AddToTagsAsync(key, tags, LongestTagFiling(entry), cancellationToken)).ConfigureAwait(false);
        }

        byte[] lease = NamespaceEnvelope.NewLease();
        bool taken = await Guard(_store.TryAcquireLeaseAsync(key, lease, _options.LeaseDuration, cancellationToken)).ConfigureAwait(false);
        return taken
            ? new CacheLookup(null, namespaceName, observedVersion, lease)
            : new CacheLookup(null, namespaceName, observedVersion, leasedByOther: true);
    }

    /// <summary>Gives up a lease taken by <see cref="GetAsync(string, CacheEntryOptions?, CancellationToken)"/> when nothing will be stored.</summary>
    /// <param name="key">The key.</param>
    /// <param name="lookup">The lookup that took the lease.</param>
    /// <returns>A task that completes when the lease is released.</returns>
    public async ValueTask ReleaseLeaseAsync(string key, CacheLookup lookup)
    {
        if (lookup.Lease is { } lease)
        {
            TimeSpan left = lookup.RestoreUntil - _time.GetUtcNow();
            if (lookup.Restore is { } stale && left > TimeSpan.Zero)
            {
                // A reload that stored nothing puts the stale entry back, for the rest of its stale window.
                await Guard(_store.SetIfLeaseAsync(key, lease, stale, left, CancellationToken.None)).ConfigureAwait(false);
                return;
            }

            await Guard(_store.ReleaseLeaseAsync(key, lease, CancellationToken.None)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits, up to <paramref name="maxWait"/>, for the holder of the key's lease (on any instance) to store the
    /// value: distributed stampede protection. Returns null when it does not come (released, expired, too slow).
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="keyPrefix">The key prefix reported in metrics.</param>
    /// <param name="maxWait">The bound.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The stored bytes, or null.</returns>
    public ValueTask<ReadOnlyMemory<byte>?> WaitForLeaseHolderAsync(string key, string? keyPrefix, TimeSpan maxWait, CancellationToken cancellationToken = default)
        => WaitForLeaseHolderAsync(key, new CacheEntryOptions { KeyPrefix = keyPrefix }, maxWait, cancellationToken);

    /// <summary>
    /// Waits, up to <paramref name="maxWait"/>, for the holder of the key's lease (on any instance) to store the
    /// value: distributed stampede protection. Returns null when it does not come (released, expired, too slow),
    /// or when what was stored is not a live value of <paramref name="entry"/>'s namespace.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="entry">The entry's namespace (if any) and the key prefix reported in metrics.</param>
    /// <param name="maxWait">The bound.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The stored bytes (the payload, for a namespaced entry), or null.</returns>
    public async ValueTask<ReadOnlyMemory<byte>?> WaitForLeaseHolderAsync(string key, CacheEntryOptions? entry, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        if (!Switch.IsOn)
        {
            return null; // caching is switched off: nothing is read
        }

        if (Backlog is { HasPending: true })
        {
            // Nobody holds a lease: invalidations wait for replay, and what the store holds may be stale.
            return null;
        }

        string? namespaceName = entry?.Namespace;
        long deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(LeasePollInterval, cancellationToken).ConfigureAwait(false);
            ValueTask<byte[]?> read = Guard(_store.GetAsync(key, cancellationToken));
            ValueTask<string?> reading = namespaceName is null ? default : Guard(_store.GetNamespaceVersionAsync(namespaceName, cancellationToken));
            byte[]? value = await read.ConfigureAwait(false);
            string? version = namespaceName is null ? null : await reading.ConfigureAwait(false);
            if (value is null)
            {
                return null;
            }

            Held held = Interpret(value, namespaceName is null ? null : version ?? string.Empty);
            if (held.IsLease)
            {
                continue;
            }

            if (held.Fresh is not { } payload)
            {
                return null;
            }

            // Not counted again: the read that found the lease counted this request's lookup (a miss).
            return payload;
        }

        return null;
    }

    private static readonly TimeSpan LeasePollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Stores an entry with a time to live (one atomic SET), filing it under its tags first; or, with the
    /// <paramref name="lookup"/> that took the key's lease, by compare-and-set on that lease.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The bytes.</param>
    /// <param name="options">Time to live, tags, namespace and metrics prefix; defaults when <see langword="null"/>.</param>
    /// <param name="lookup">
    /// The lookup that missed before the value was loaded, if any. The value is then stored only if the lookup's
    /// lease is still in place (no invalidation of the key, by key, pattern or tag, and no write of a fresh value
    /// came in between); for a namespaced entry, only if the namespace still has the version seen then, and
    /// under that version, so a namespace invalidation that happens while storing still wins.
    /// Without a lookup (write-through, warming) the value is fresh: it replaces whatever the key holds, leases
    /// of loads in progress included, so those loads do not store.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when a concurrent change made the value possibly stale.</returns>
    public async ValueTask<bool> SetAsync(string key, ReadOnlyMemory<byte> value, CacheEntryOptions? options = null, CacheLookup? lookup = null, CancellationToken cancellationToken = default)
    {
        using Activity? span = Switch.IsOn ? CachingTelemetry.StartStore(options?.KeyPrefix ?? UnspecifiedKeyPrefix, _store.Name) : null;
        try
        {
            bool stored = await SetCoreAsync(key, value, options, lookup, cancellationToken).ConfigureAwait(false);
            span?.SetTag(CachingTelemetry.StoredTag, stored);
            return stored;
        }
        catch (Exception ex) when (span is not null)
        {
            CachingTelemetry.Failed(span, ex);
            throw;
        }
    }

    private async ValueTask<bool> SetCoreAsync(string key, ReadOnlyMemory<byte> value, CacheEntryOptions? options, CacheLookup? lookup, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        TimeSpan ttl = options?.Expiration ?? _options.DefaultExpiration;
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), ttl, "The expiration of a cache entry must be positive.");
        }

        ttl = WithJitter(ttl);

        IReadOnlyList<string>? tags = options?.Tags;
        if (tags is not null)
        {
            foreach (string tag in tags)
            {
                ValidateName(tag, "tag", nameof(options));
            }
        }

        string? namespaceName = options?.Namespace;
        byte[]? envelope = null;
        if (!Switch.IsOn)
        {
            // Caching is switched off: nothing is stored. An explicit write (write-through, warming) says the value
            // changed: the copy stored before is deleted, so that switching the cache back on does not serve it.
            if (lookup is null)
            {
                await InvalidateKeysAsync([key], options?.KeyPrefix, cancellationToken).ConfigureAwait(false);
            }

            return false;
        }

        if (lookup is { LeasedByOther: true })
        {
            // Someone else holds the lease, or invalidations wait for replay: this value may be stale.
            return false;
        }

        byte[]? lease = lookup?.Lease;
        _breaker.ThrowIfOpen();

        if (namespaceName is not null)
        {
            ValidateName(namespaceName, "namespace", nameof(options));
            bool observed = lookup is { } seen && seen.NamespaceName == namespaceName;
            string? version = observed
                ? lookup!.Value.ObservedNamespaceVersion
                : await Guard(_store.GetNamespaceVersionAsync(namespaceName, cancellationToken)).ConfigureAwait(false);
            if (version is not null && observed)
            {
                // Loaded after a lookup: if the namespace was invalidated since, the value is not stored at all.
                // (Were it invalidated after this check, the envelope below still carries the old version: a miss.)
                string? current = await Guard(_store.GetNamespaceVersionAsync(namespaceName, cancellationToken)).ConfigureAwait(false);
                if (!string.Equals(current, version, StringComparison.Ordinal))
                {
                    return false;
                }
            }
            else if (version is null)
            {
                // No version yet: create one. If another writer created or bumped it meanwhile, a value loaded
                // after a miss may predate that invalidation, so it is not stored.
                version = NewVersion();
                TimeSpan longest = ttl + StaleWindow(options);
                TimeSpan lifetime = longest > _options.NamespaceVersionLifetime ? longest : _options.NamespaceVersionLifetime;
                if (!await Guard(_store.TryCreateNamespaceVersionAsync(namespaceName, version, lifetime, cancellationToken)).ConfigureAwait(false))
                {
                    if (lookup is not null)
                    {
                        return false;
                    }

                    // An explicit write (warming, write-through) carries a fresh value: store it under the version
                    // that another writer just created.
                    version = await Guard(_store.GetNamespaceVersionAsync(namespaceName, cancellationToken)).ConfigureAwait(false);
                    if (version is null)
                    {
                        return false;
                    }
                }
            }

            envelope = NamespaceEnvelope.Wrap(version, value.Span);
        }

        TimeSpan window = StaleWindow(options);
        if (window > TimeSpan.Zero)
        {
            // Kept past its expiration for its stale window: the store's TTL covers the window, the entry says when
            // its freshness ends.
            DateTimeOffset now = _time.GetUtcNow();
            envelope = TimedEntry.Wrap(now + ttl, now + ttl + window, envelope ?? value.Span);
            ttl += window;
        }

        if (lease is not null)
        {
            // Filled only through the lease (its tags were filed when it was taken): if an invalidation removed it,
            // or a fresh value replaced it, meanwhile, this value may be stale.
            bool stored = await Guard(_store.SetIfLeaseAsync(key, lease, envelope ?? value, ttl, cancellationToken)).ConfigureAwait(false);
            if (stored)
            {
                _metrics.Set(options?.KeyPrefix ?? UnspecifiedKeyPrefix);
            }

            return stored;
        }

        if (tags is { Count: > 0 })
        {
            // Filed before it is stored: a crash in between leaves a harmless filing, never an untagged entry.
            await Guard(_store.AddToTagsAsync(key, tags, ttl, cancellationToken)).ConfigureAwait(false);
        }

        await Guard(_store.SetAsync(key, envelope ?? value, ttl, cancellationToken)).ConfigureAwait(false);
        _metrics.Set(options?.KeyPrefix ?? UnspecifiedKeyPrefix);
        if (lookup is null)
        {
            // An explicit write (warming, write-through): a load of this key in flight read what it replaced.
            _coalescer?.ForgetKeys([key]);
        }

        return true;
    }

    /// <summary>Deletes the given keys.</summary>
    /// <param name="keys">The keys.</param>
    /// <param name="keyPrefix">The key prefix reported in metrics.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of entries that existed and were deleted.</returns>
    public async ValueTask<long> InvalidateKeysAsync(IReadOnlyCollection<string> keys, string? keyPrefix = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (string key in keys)
        {
            ValidateKey(key, nameof(keys));
        }

        if (keys.Count == 0)
        {
            return 0;
        }

        using Activity? span = CachingTelemetry.StartInvalidation("key", keyPrefix ?? UnspecifiedKeyPrefix, _store.Name);
        _breaker.ThrowIfOpen();
        long started = Stopwatch.GetTimestamp();
        long deleted;
        try
        {
            // Per-user copies of these keys are filed under their variant tags: cleared in the same round trip.
            ValueTask<long> deleting = Guard(_store.DeleteAsync(keys, cancellationToken));
            var variants = keys.Select(k => Guard(_store.InvalidateTagAsync(VariantTag(k), cancellationToken)).AsTask()).ToArray();
            deleted = await deleting.ConfigureAwait(false) + (await Task.WhenAll(variants).ConfigureAwait(false)).Sum();
        }
        catch (Exception ex) when (span is not null)
        {
            CachingTelemetry.Failed(span, ex);
            throw;
        }
        finally
        {
            _coalescer?.ForgetKeys(keys);
        }

        span?.SetTag(CachingTelemetry.KeysDeletedTag, deleted);

        _metrics.Invalidated(keyPrefix ?? UnspecifiedKeyPrefix, "key", deleted, Stopwatch.GetElapsedTime(started));
        Log.KeysInvalidated(_logger, keys.Count, deleted);
        return deleted;
    }

    /// <summary>Deletes every key matching a Redis glob pattern, with SCAN on every primary.</summary>
    /// <param name="pattern">The pattern; build it with <see cref="CachePattern.Format"/> so that values are escaped.</param>
    /// <param name="keyPrefix">The key prefix reported in metrics.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of entries deleted.</returns>
    public async ValueTask<long> InvalidatePatternAsync(string pattern, string? keyPrefix = null, CancellationToken cancellationToken = default)
    {
        ValidatePattern(pattern);
        using Activity? span = CachingTelemetry.StartInvalidation("pattern", keyPrefix ?? UnspecifiedKeyPrefix, _store.Name);
        _breaker.ThrowIfOpen();
        long started = Stopwatch.GetTimestamp();
        PatternDeleteResult result;
        try
        {
            result = await Guard(_store.DeleteByPatternAsync(pattern, cancellationToken)).ConfigureAwait(false);
            if (!pattern.EndsWith('*'))
            {
                // Per-user copies end with "|user:…": a pattern that does not end in '*' would miss them.
                PatternDeleteResult variants = await Guard(_store.DeleteByPatternAsync(pattern + "|user:*", cancellationToken)).ConfigureAwait(false);
                result = new PatternDeleteResult(result.Matched + variants.Matched, result.Deleted + variants.Deleted);
            }
        }
        catch (Exception ex) when (span is not null)
        {
            CachingTelemetry.Failed(span, ex);
            throw;
        }
        finally
        {
            _coalescer?.ForgetPattern(pattern);
        }

        span?.SetTag(CachingTelemetry.KeysMatchedTag, result.Matched);
        span?.SetTag(CachingTelemetry.KeysDeletedTag, result.Deleted);

        _metrics.Invalidated(keyPrefix ?? UnspecifiedKeyPrefix, "pattern", result.Deleted, Stopwatch.GetElapsedTime(started));
        return result.Deleted;
    }

    /// <summary>Deletes every entry filed under a tag.</summary>
    /// <param name="tag">The tag.</param>
    /// <param name="keyPrefix">The key prefix reported in metrics.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of entries deleted.</returns>
    public async ValueTask<long> InvalidateTagAsync(string tag, string? keyPrefix = null, CancellationToken cancellationToken = default)
    {
        ValidateName(tag, "tag", nameof(tag));
        using Activity? span = CachingTelemetry.StartInvalidation("tag", keyPrefix ?? UnspecifiedKeyPrefix, _store.Name);
        _breaker.ThrowIfOpen();
        long started = Stopwatch.GetTimestamp();
        long deleted;
        try
        {
            deleted = await Guard(_store.InvalidateTagAsync(tag, cancellationToken)).ConfigureAwait(false);
            span?.SetTag(CachingTelemetry.KeysDeletedTag, deleted);
        }
        catch (Exception ex) when (span is not null)
        {
            CachingTelemetry.Failed(span, ex);
            throw;
        }
        finally
        {
            _coalescer?.ForgetTag(tag);
        }

        _metrics.Invalidated(keyPrefix ?? UnspecifiedKeyPrefix, "tag", deleted, Stopwatch.GetElapsedTime(started));
        Log.TagInvalidated(_logger, tag, deleted);
        return deleted;
    }

    /// <summary>Invalidates every entry of a namespace in O(1), by giving the namespace a new version.</summary>
    /// <param name="namespaceName">The namespace, such as <c>user:42</c>.</param>
    /// <param name="keyPrefix">The key prefix reported in metrics.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the namespace has its new version.</returns>
    public async ValueTask InvalidateNamespaceAsync(string namespaceName, string? keyPrefix = null, CancellationToken cancellationToken = default)
    {
        ValidateName(namespaceName, "namespace", nameof(namespaceName));
        using Activity? span = CachingTelemetry.StartInvalidation("namespace", keyPrefix ?? UnspecifiedKeyPrefix, _store.Name);
        _breaker.ThrowIfOpen();
        long started = Stopwatch.GetTimestamp();
        try
        {
            await Guard(_store.SetNamespaceVersionAsync(namespaceName, NewVersion(), _options.NamespaceVersionLifetime, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex) when (span is not null)
        {
            CachingTelemetry.Failed(span, ex);
            throw;
        }
        finally
        {
            _coalescer?.ForgetNamespace(namespaceName);
        }

        _metrics.Invalidated(keyPrefix ?? UnspecifiedKeyPrefix, "namespace", 0, Stopwatch.GetElapsedTime(started));
        Log.NamespaceInvalidated(_logger, namespaceName);
    }

    /// <summary>
    /// Deletes every entry this cache stored, and every lease (so that no load that began before stores after), on
    /// every instance; keys under <see cref="CachingOptions.InternalKeyPrefix"/> stay, and on a shared Redis no key
    /// this cache did not write is touched (see <see cref="ICacheStore.DeleteAllAsync"/>).
    /// </summary>
    /// <param name="keyPrefix">The key prefix reported in metrics.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of keys deleted.</returns>
    public async ValueTask<long> InvalidateAllAsync(string? keyPrefix = null, CancellationToken cancellationToken = default)
    {
        using Activity? span = CachingTelemetry.StartInvalidation("all", keyPrefix ?? UnspecifiedKeyPrefix, _store.Name);
        _breaker.ThrowIfOpen();
        long started = Stopwatch.GetTimestamp();
        long deleted;
        try
        {
            deleted = await Guard(_store.DeleteAllAsync(cancellationToken)).ConfigureAwait(false);
            span?.SetTag(CachingTelemetry.KeysDeletedTag, deleted);
        }
        catch (Exception ex) when (span is not null)
        {
            CachingTelemetry.Failed(span, ex);
            throw;
        }
        finally
        {
            _coalescer?.ForgetAll();
        }

        _metrics.Invalidated(keyPrefix ?? UnspecifiedKeyPrefix, "all", deleted, Stopwatch.GetElapsedTime(started));
        Log.AllInvalidated(_logger, deleted);
        return deleted;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> unless <paramref name="key"/> is a usable key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="parameterName">The parameter reported in the exception.</param>
    public void ValidateKey(string key, string parameterName = "key")
    {
        if (string.IsNullOrEmpty(key))
        {
            throw new ArgumentException("A cache key must not be null or empty.", parameterName);
        }

        int bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes > _options.MaxKeyLength)
        {
            throw new ArgumentException($"The cache key is {bytes} UTF-8 bytes long, more than the {_options.MaxKeyLength} that CachingOptions.MaxKeyLength allows; shorten the prefix or the values, or raise the limit. Key starts with '{key[..Math.Min(key.Length, 64)]}'.", parameterName);
        }

        if (key.StartsWith(_options.InternalKeyPrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The cache key '{key}' starts with '{_options.InternalKeyPrefix}', which CachingOptions.InternalKeyPrefix reserves for tag indexes and namespace versions.", parameterName);
        }
    }

    /// <summary>Throws an <see cref="ArgumentException"/> unless <paramref name="pattern"/> is a usable, narrow enough pattern.</summary>
    /// <param name="pattern">The glob pattern.</param>
    public void ValidatePattern(string pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            throw new ArgumentException("A cache pattern must not be null or empty.", nameof(pattern));
        }

        if (Encoding.UTF8.GetByteCount(pattern) > _options.MaxKeyLength)
        {
            throw new ArgumentException($"The cache pattern is longer than the {_options.MaxKeyLength} UTF-8 bytes CachingOptions.MaxKeyLength allows.", nameof(pattern));
        }

        if (!RedisGlob.HasLiteralOrClass(pattern) || pattern.All(static c => c is '*' or '?'))
        {
            throw new ArgumentException($"The pattern '{pattern}' matches every key; name what to invalidate, such as \"post:*\".", nameof(pattern));
        }
    }

    /// <summary>Throws an <see cref="ArgumentException"/> unless <paramref name="name"/> is a usable tag or namespace name.</summary>
    /// <param name="name">The tag or namespace.</param>
    /// <param name="kind">"tag" or "namespace", for the message.</param>
    /// <param name="parameterName">The parameter reported in the exception.</param>
    public void ValidateName(string name, string kind, string parameterName)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"A cache {kind} must not be null or empty.", parameterName);
        }

        if (Encoding.UTF8.GetByteCount(name) > _options.MaxKeyLength)
        {
            throw new ArgumentException($"The cache {kind} '{name[..Math.Min(name.Length, 64)]}' is longer than the {_options.MaxKeyLength} UTF-8 bytes CachingOptions.MaxKeyLength allows.", parameterName);
        }
    }

    /// <summary>Counts a value served past its expiration; <paramref name="reason"/> is "revalidating" or "error".</summary>
    internal void RecordStale(string keyPrefix, string reason) => _metrics.StaleServed(keyPrefix, reason);

    /// <summary>Counts a lookup in the metrics (used when the caller decides how a first miss was served).</summary>
    internal void RecordLookup(bool hit, string keyPrefix, LookupCounting counting = LookupCounting.All)
    {
        if (counting == LookupCounting.All || (hit && counting == LookupCounting.HitsOnly))
        {
            Record(hit, keyPrefix);
        }
    }

    private void Record(bool hit, string keyPrefix)
    {
        if (hit)
        {
            _metrics.Hit(keyPrefix);
        }
        else
        {
            _metrics.Miss(keyPrefix);
        }
    }

    // Every store call goes through the breaker: refused at once while it is open, counted when it fails.
    private async ValueTask<T> Guard<T>(ValueTask<T> call)
    {
        try
        {
            T result = await call.ConfigureAwait(false);
            _breaker.RecordSuccess();
            return result;
        }
        catch (Exception ex) when (ex is not (ArgumentException or OperationCanceledException or CacheStoreUnavailableException))
        {
            _breaker.RecordFailure();
            throw;
        }
    }

    private async ValueTask Guard(ValueTask call)
    {
        try
        {
            await call.ConfigureAwait(false);
            _breaker.RecordSuccess();
        }
        catch (Exception ex) when (ex is not (ArgumentException or OperationCanceledException or CacheStoreUnavailableException))
        {
            _breaker.RecordFailure();
            throw;
        }
    }

    // Up to ExpirationJitter of the TTL added at random, so entries written together expire apart.
    private TimeSpan WithJitter(TimeSpan ttl)
    {
        double jitter = _options.ExpirationJitter;
        return jitter <= 0 ? ttl : ttl + TimeSpan.FromTicks((long)(ttl.Ticks * jitter * Random.Shared.NextDouble()));
    }

    private static string NewVersion() => Guid.NewGuid().ToString("N");
}

/// <summary>Which lookups a read counts in the metrics.</summary>
internal enum LookupCounting
{
    /// <summary>Hits and misses.</summary>
    All,

    /// <summary>Hits only: the caller counts the miss once it knows how the request is served.</summary>
    HitsOnly,

    /// <summary>Nothing: a read again within a request whose lookup was counted already.</summary>
    None,
}
