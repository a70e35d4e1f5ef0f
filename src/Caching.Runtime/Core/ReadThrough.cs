using Caching.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Caching;

/// <summary>
/// The one read-through protocol, used by minimal-API endpoints, controller actions and <see cref="ICache"/>
/// alike: look up the key; on a miss, single flight in this process (<see cref="MissCoalescer"/>), the key's lease
/// across instances, a bounded wait for another instance's lease holder; then the caller loads and stores through
/// the <see cref="PendingLoad"/> it is handed, which gives the lease back and tells the followers what was stored.
/// </summary>
/// <remarks>
/// <para>Rules every reader gets from here, so that they hold everywhere at once:</para>
/// <list type="bullet">
/// <item>A follower takes only bytes that really were stored, by a load that started after the last invalidation
/// this process saw; a leader that stored nothing hands over nothing and each follower loads for itself.</item>
/// <item>Only the lease holder stores, by compare-and-set on its lease (under the namespace version it read), so a
/// load that raced an invalidation never stores its old value.</item>
/// <item>The store failing never fails the read: the caller loads and nothing is stored (logged). Invalid keys are
/// the caller's mistake and throw <see cref="ArgumentException"/>.</item>
/// </list>
/// </remarks>
internal sealed class ReadThrough
{
    private readonly CacheEngine _engine;
    private readonly ILogger _logger;
    private readonly MissCoalescer? _coalescer;
    private readonly bool _waitForLeaseHolder;
    private readonly TimeSpan _leaseWait;
    private readonly TimeSpan _softTimeout;

    public ReadThrough(CacheEngine engine, IOptions<CachingOptions> options, ILogger<ReadThrough> logger)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        _engine = engine;
        _logger = logger;
        _waitForLeaseHolder = options.Value.DistributedStampedeProtection;
        _softTimeout = options.Value.SoftTimeout;
        _leaseWait = options.Value.CoalescingTimeout;
        _coalescer = engine.Coalescer;
    }

    /// <summary>The engine the protocol runs on.</summary>
    public CacheEngine Engine => _engine;

    /// <summary>
    /// A look that takes no lease and counts no miss (the hit path's read before binding, a plain GET): the bytes on
    /// a hit. A store failure or an unusable key is a plain miss here: the read that follows reports it.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>?> PeekAsync(string key, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        if (!_engine.IsEnabled)
        {
            return null;
        }

        try
        {
            CacheLookup lookup = await _engine.GetAsync(key, entry, takeLease: false, LookupCounting.HitsOnly, cancellationToken).ConfigureAwait(false);
            return lookup.Value;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null; // a store failure or a key that cannot be used: the read that follows reports it
        }
    }

    /// <summary>
    /// The hit path's read of a key without a namespace, before the request is bound: one command that returns the
    /// entry or, when the key holds nothing, takes its lease. Returns the bytes on a hit; on a miss whose lease it
    /// took, a load for the caching filter to go on with (<see cref="ContinueAsync"/>), so that the miss costs no
    /// second read; null otherwise (another holder's lease, a store failure, an unusable key): the filter then reads
    /// as usual. Counts hits only: a miss is counted by the filter.
    /// </summary>
    public async ValueTask<ReadStep?> ReadOrLeaseAsync(string key, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        if (!_engine.IsEnabled)
        {
            return null;
        }

        CacheLookup lookup;
        try
        {
            lookup = await _engine.GetAsync(key, entry, takeLease: true, LookupCounting.HitsOnly, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null; // a store failure or a key that cannot be used: the read that follows reports it
        }

        if (lookup.Value is { } filled)
        {
            return new ReadStep(filled, null);
        }

        if (!lookup.HoldsLease)
        {
            return null;
        }

        // The lease holder leads this process's single flight for the key at once, so that the requests that read
        // the key while it loads follow it rather than load for themselves. A request that began to lead between
        // the read and here waits for this lease holder instead (it sees the lease is this process's).
        // A reload while the stale value is served leads no flight: the others are served the stale value.
        TaskCompletionSource<byte[]?>? lead = Revalidates(lookup, entry) ? null : _coalescer?.TryLead(key, key, entry, out _);
        return new ReadStep(null, new PendingLoad(this, key, entry, lookup, lead is null ? null : key, lead));
    }

    /// <summary>
    /// Goes on with a load whose lease <see cref="ReadOrLeaseAsync"/> took, under the entry the caching filter forms
    /// once the request is bound: files the entry's tags (before the handler runs, as a read that takes the lease
    /// does), and the flight the hit path's read leads with them. Null when the load does not fit (another key, a
    /// namespace); it is then ended and its lease given back, and the caller reads as usual.
    /// </summary>
    public async ValueTask<ReadStep?> ContinueAsync(PendingLoad handed, string key, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handed);
        ArgumentNullException.ThrowIfNull(entry);
        if (!handed.CanContinueAs(key, entry))
        {
            await handed.DisposeAsync().ConfigureAwait(false);
            return null;
        }

        _engine.RecordLookup(hit: false, entry.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix);
        handed.Continue(entry);
        try
        {
            await _engine.FileTagsAsync(key, entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            // Without its tags the entry could outlive a tag invalidation: nothing is stored.
            Log.StoreWriteFailed(_logger, key, ex);
            await handed.DisposeAsync().ConfigureAwait(false);
            return new ReadStep(null, Unstored(key, entry));
        }

        return new ReadStep(null, handed);
    }

    /// <summary>
    /// Starts a read of <paramref name="key"/>: either the bytes to serve (a hit, what this process's leader just
    /// stored, or what another instance's lease holder stored while this one waited), or a load for the caller to
    /// run, store through and dispose.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="entry">The entry's namespace, tags, time to live and metrics prefix: used to read and to store.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="ArgumentException">The key, namespace or a tag is not usable.</exception>
    public async ValueTask<ReadStep> BeginAsync(string key, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string prefix = entry.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix;
        if (!_engine.IsEnabled)
        {
            // Caching is switched off: every caller loads for itself (no single flight either), storing nothing.
            _engine.ValidateKey(key);
            return new ReadStep(null, Unstored(key, entry));
        }

        if (_coalescer is null)
        {
            return await ReadAloneAsync(key, entry, cancellationToken).ConfigureAwait(false);
        }

        // The requests of this process that read one key at the same time share one read: the first leads, the others
        // take what it reads or stores. The leader's read takes the key's lease when the key holds nothing (one
        // command on Redis), so a miss that goes on to load costs that read and the store that fills the key.
        string flight = entry.Namespace is { } space ? space + "\n" + key : key;
        TaskCompletionSource<byte[]?>? lead = _coalescer.TryLead(flight, key, entry, out Task<byte[]?>? leader);
        if (lead is null)
        {
            // Another request of this process reads or loads the key: take the bytes it reads or stores. A leader
            // that got nothing to share (an error, a null, a response that may not be shared, an invalidation during
            // the load, a timeout) hands over nothing: this request then loads for itself, without storing (the
            // leader has the lease).
            byte[]? shared = leader is null ? null : await _coalescer.FollowAsync(leader, cancellationToken).ConfigureAwait(false);
            if (ReferenceEquals(shared, MissCoalescer.ReadYourself))
            {
                // The leader read a value it did not store: this request reads for itself.
                return await ReadAloneAsync(key, entry, cancellationToken).ConfigureAwait(false);
            }

            _engine.RecordLookup(shared is not null, prefix);
            return shared is not null ? new ReadStep(shared, null) : new ReadStep(null, Unstored(key, entry));
        }

        CacheLookup? leased = null;
        try
        {
            leased = await TryLookupAsync(key, entry, takeLease: true, LookupCounting.All, cancellationToken).ConfigureAwait(false);
            if (leased is null)
            {
                Complete(flight, lead, null);
                return new ReadStep(null, Unstored(key, entry));
            }

            return await LeaseStepAsync(key, entry, leased.Value, flight, lead, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Aborted: free the flight for the next request, and give back the lease if one was taken.
            Complete(flight, lead, null);
            if (leased is { HoldsLease: true } held)
            {
                await TryReleaseLeaseAsync(key, held).ConfigureAwait(false);
            }

            throw;
        }
    }

    // A read outside any flight: it takes the key's lease when the key holds nothing (one command on Redis).
    private async ValueTask<ReadStep> ReadAloneAsync(string key, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        CacheLookup? own = await TryLookupAsync(key, entry, takeLease: true, LookupCounting.All, cancellationToken).ConfigureAwait(false);
        return own is null
            ? new ReadStep(null, Unstored(key, entry))
            : await LeaseStepAsync(key, entry, own.Value, null, null, cancellationToken).ConfigureAwait(false);
    }

    // After the read that may take the lease: a hit, a wait for another instance's lease holder, or a load.
    private async ValueTask<ReadStep> LeaseStepAsync(string key, CacheEntryOptions entry, CacheLookup lookup, string? flight, TaskCompletionSource<byte[]?>? lead, CancellationToken cancellationToken)
    {
        if (lookup.Value is { } filled)
        {
            Complete(flight, lead, MissCoalescer.ReadYourself);
            return new ReadStep(filled, null);
        }

        if (Revalidates(lookup, entry))
        {
            // Stale-while-revalidate: the value past its freshness is served at once. The reload runs in the request
            // that took the key's lease (one across instances), without leading this process's flight: the requests
            // that follow it are told to read for themselves, and are served the stale value too.
            Complete(flight, lead, MissCoalescer.ReadYourself);
            if (lookup.HoldsLease)
            {
                return new ReadStep(null, new PendingLoad(this, key, entry, lookup, null, null));
            }

            _engine.RecordStale(entry.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix, "revalidating");
            return new ReadStep(lookup.Stale, null, lookup.FreshUntil);
        }

        if (lookup.LeasedByOther && (_waitForLeaseHolder || lookup.LeasedInThisProcess))
        {
            // Another caller (here or on another instance) is loading the key: take its value when it comes. With a
            // soft timeout and a stale value within its stale-if-error window, the wait lasts no longer than the soft
            // timeout, and a reload still running then answers this request with the stale value.
            bool softStale = _softTimeout > TimeSpan.Zero && WithinStaleIfError(lookup, entry);
            TimeSpan wait = softStale && _softTimeout < _leaseWait ? _softTimeout : _leaseWait;
            if (await TryWaitForLeaseHolderAsync(key, entry, wait, cancellationToken).ConfigureAwait(false) is { } loaded)
            {
                Complete(flight, lead, MissCoalescer.ReadYourself);
                return new ReadStep(loaded, null);
            }

            // It gave up (released, expired, or its value was refused): read once more, taking the lease if free.
            if (await TryLookupAsync(key, entry, takeLease: true, LookupCounting.None, cancellationToken).ConfigureAwait(false) is not { } again)
            {
                Complete(flight, lead, null);
                return new ReadStep(null, Unstored(key, entry));
            }

            if (again.Value is { } late)
            {
                Complete(flight, lead, MissCoalescer.ReadYourself);
                return new ReadStep(late, null);
            }

            if (softStale && again.LeasedByOther && WithinStaleIfError(again, entry))
            {
                // The reload is still running past the soft timeout: the stale value this read found answers.
                Complete(flight, lead, MissCoalescer.ReadYourself);
                ReportStaleOnTimeout(key, entry, again.FreshUntil);
                return new ReadStep(again.Stale, null, again.FreshUntil, SoftTimedOut: true);
            }

            lookup = again;
        }

        return new ReadStep(null, new PendingLoad(this, key, entry, lookup, flight, lead));
    }

    // Whether a miss found a value past its freshness that is still within the entry's stale-while-revalidate window.
    private bool Revalidates(CacheLookup lookup, CacheEntryOptions entry)
        => lookup.Stale is not null && _engine.Time.GetUtcNow() < lookup.FreshUntil + _engine.StaleWhileRevalidate(entry);

    // Whether a miss found a value past its freshness that is still within the entry's stale-if-error window (the
    // store keeps it no longer than the larger window: the lookup has no stale value past that).
    private bool WithinStaleIfError(CacheLookup lookup, CacheEntryOptions entry)
        => lookup.Stale is not null && _engine.Time.GetUtcNow() < lookup.FreshUntil + _engine.StaleIfError(entry);

    private long SecondsSince(DateTimeOffset moment) => Math.Max(0, (long)(_engine.Time.GetUtcNow() - moment).TotalSeconds);

    // Logs and counts a stale value answered because its reload ran past the soft timeout.
    private void ReportStaleOnTimeout(string key, CacheEntryOptions entry, DateTimeOffset staleSince)
    {
        Log.ServedStaleOnTimeout(_logger, key, SecondsSince(staleSince));
        _engine.RecordStale(entry.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix, "timeout");
    }

    /// <summary>
    /// Whether <paramref name="failure"/>, thrown by a load, is the origin failing (stale-if-error answers it) rather
    /// than the caller giving up: an <see cref="OperationCanceledException"/> counts as a failure only when the
    /// caller's token was not cancelled (an HTTP client's own timeout, for example).
    /// </summary>
    internal static bool IsOriginFailure(Exception failure, CancellationToken callerToken)
        => !(failure is OperationCanceledException && callerToken.IsCancellationRequested);

    // A load that stores nothing: the store failed, or another load of this process holds the key's lease.
    private PendingLoad Unstored(string key, CacheEntryOptions entry) => new(this, key, entry, null, null, null);

    // Ends this process's flight, if the caller leads one: followers get the bytes, or load for themselves.
    private void Complete(string? flight, TaskCompletionSource<byte[]?>? lead, byte[]? bytes)
    {
        if (lead is not null)
        {
            _coalescer!.Complete(flight!, lead, bytes);
        }
    }

    private async ValueTask<CacheLookup?> TryLookupAsync(string key, CacheEntryOptions entry, bool takeLease, LookupCounting counting, CancellationToken cancellationToken)
    {
        try
        {
            return await _engine.GetAsync(key, entry, takeLease, counting, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            // Fail open: the caller loads; nothing is stored, since the store's state is unknown.
            Log.StoreReadFailed(_logger, key, ex);
            CachingTelemetry.StoreFailed("read", entry.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix, ex);
            return null;
        }
    }

    private async ValueTask<ReadOnlyMemory<byte>?> TryWaitForLeaseHolderAsync(string key, CacheEntryOptions entry, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            return await _engine.WaitForLeaseHolderAsync(key, entry, wait, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            Log.StoreReadFailed(_logger, key, ex);
            return null;
        }
    }

    private async ValueTask<bool> TryStoreAsync(string key, byte[] value, CacheEntryOptions entry, CacheLookup lookup, CancellationToken cancellationToken)
    {
        try
        {
            return await _engine.SetAsync(key, value, entry, lookup, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            Log.StoreWriteFailed(_logger, key, ex);
            CachingTelemetry.StoreFailed("write", entry.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix, ex);
            return false;
        }
    }

    private async ValueTask TryReleaseLeaseAsync(string key, CacheLookup lookup)
    {
        try
        {
            await _engine.ReleaseLeaseAsync(key, lookup).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            // The lease expires by itself after CachingOptions.LeaseDuration.
            Log.StoreWriteFailed(_logger, key, ex);
        }
    }

    // Cancellation is the caller's; a bad key is the caller's mistake. Anything else is the store failing.
    private static bool IsStoreFailure(Exception ex) => ex is not OperationCanceledException and not ArgumentException;

    /// <summary>
    /// How a read goes on: <see cref="Served"/> bytes, or a <see cref="Load"/> for the caller to run. Served bytes with
    /// a <see cref="StaleSince"/> are a value past its freshness, served while another request reloads it; with
    /// <see cref="SoftTimedOut"/>, because that reload has run longer than the soft timeout.
    /// </summary>
    internal readonly record struct ReadStep(ReadOnlyMemory<byte>? Served, PendingLoad? Load, DateTimeOffset? StaleSince = null, bool SoftTimedOut = false);

    /// <summary>
    /// A miss the caller loads: store the loaded bytes through <see cref="StoreAsync"/> (only the lease holder
    /// can), then dispose, which hands the stored bytes (or nothing) to this process's followers and gives the
    /// lease back if nothing was stored.
    /// </summary>
    internal sealed class PendingLoad : IAsyncDisposable
    {
        private readonly ReadThrough _owner;
        private readonly string _key;
        private readonly CacheLookup? _lookup;
        private readonly string? _flight;
        private readonly TaskCompletionSource<byte[]?>? _lead;
        private CacheEntryOptions _entry;
        private byte[]? _stored;
        private int _done;

        // The cache.miss span: from the lookup that missed to the end of the load (none while caching is off).
        private readonly System.Diagnostics.Activity? _span;

        internal PendingLoad(ReadThrough owner, string key, CacheEntryOptions entry, CacheLookup? lookup, string? flight, TaskCompletionSource<byte[]?>? lead)
        {
            _owner = owner;
            _key = key;
            _entry = entry;
            _lookup = lookup;
            _flight = flight;
            _lead = lead;
            _span = owner._engine.IsEnabled ? CachingTelemetry.StartMiss(entry.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix) : null;
        }

        /// <summary>
        /// Makes the miss's span the current one for the rest of the caller's method: the handler or factory it runs
        /// next records its own spans as the miss's children.
        /// </summary>
        public void Activate()
        {
            if (_span is not null)
            {
                System.Diagnostics.Activity.Current = _span;
            }
        }

        /// <summary>Whether this load may store its value (it read the store and holds what storing needs).</summary>
        public bool CanStore => _lookup is not null;

        // Whether a load the hit path began can go on as the read of this key and entry: the same key, no
        // namespace (a namespaced read needs the version read with the entry), nothing stored or ended yet.
        internal bool CanContinueAs(string key, CacheEntryOptions entry)
            => _key == key && entry.Namespace is null && _lookup is { HoldsLease: true } && _stored is null && Volatile.Read(ref _done) == 0;

        // The caching filter takes the load over: it stores under the filter's entry (its tags, for a user's copy
        // the variant tag), and the flight it leads is filed under them too, so invalidations forget it.
        internal void Continue(CacheEntryOptions entry)
        {
            _entry = entry;
            if (_lead is not null)
            {
                _owner._coalescer?.Refile(_flight!, _lead, _key, entry);
            }
        }

        /// <summary>The bytes this load stored, or null.</summary>
        public byte[]? Stored => _stored;

        /// <summary>
        /// The entry's last value, past its freshness, when the load may answer with it because it failed (the
        /// stale-if-error window has not ended); null otherwise.
        /// </summary>
        public ReadOnlyMemory<byte>? StaleIfError
            => _lookup is { Stale: { } stale } lookup && _owner._engine.Time.GetUtcNow() < lookup.FreshUntil + _owner._engine.StaleIfError(_entry) ? (ReadOnlyMemory<byte>?)stale : null;

        /// <summary>When the stale value's freshness ended.</summary>
        public DateTimeOffset StaleSince => _staleSince ?? _lookup?.FreshUntil ?? default;

        private DateTimeOffset? _staleSince;

        /// <summary>
        /// The value to answer a failed or slow load with, read again now: the stale copy the store still holds within
        /// the stale-if-error window (inside this load's lease, or another reload's), or a fresh value stored
        /// meanwhile. Null when there is none: an invalidation since the lookup removed the stale copy (invalidation
        /// wins), the window ended, or the store cannot be read.
        /// </summary>
        public async ValueTask<ReadOnlyMemory<byte>?> StaleToServeAsync(CancellationToken cancellationToken)
        {
            if (StaleIfError is null)
            {
                return null;
            }

            CacheLookup now;
            try
            {
                now = await _owner._engine.GetAsync(_key, _entry, takeLease: false, LookupCounting.None, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                Log.StoreReadFailed(_owner._logger, _key, ex);
                return null;
            }

            if (now.Value is { } fresh)
            {
                _staleSince = _owner._engine.Time.GetUtcNow();
                return fresh;
            }

            if (_owner.WithinStaleIfError(now, _entry))
            {
                _staleSince = now.FreshUntil;
                return now.Stale;
            }

            return null;
        }

        /// <summary>
        /// Tells this process's requests that follow the load to read for themselves (a load that goes on past its
        /// soft timeout: they are answered with the stale value too, rather than wait for it).
        /// </summary>
        public void ReleaseFollowers() => _owner.Complete(_flight, _lead, MissCoalescer.ReadYourself);

        /// <summary>Counts and logs a failed load answered with <see cref="StaleIfError"/>.</summary>
        public void ReportStaleServed(Exception? failure)
        {
            _span?.SetTag(CachingTelemetry.StaleTag, "error");
            if (failure is not null)
            {
                CachingTelemetry.Failed(_span, failure);
            }

            Log.ServedStaleOnError(_owner._logger, _key, _owner.SecondsSince(StaleSince), failure);
            _owner._engine.RecordStale(_entry.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix, "error");
        }

        /// <summary>
        /// The soft timeout (<see cref="CachingOptions.SoftTimeout"/>) when this load may answer with
        /// <see cref="StaleIfError"/> once it passes; null when it may not.
        /// </summary>
        public TimeSpan? SoftTimeout => _owner._softTimeout > TimeSpan.Zero && StaleIfError is not null ? _owner._softTimeout : null;

        /// <summary>The engine's clock (soft timeouts are measured on it).</summary>
        public TimeProvider Time => _owner._engine.Time;

        /// <summary>Counts and logs a slow load answered with <see cref="StaleIfError"/> while it goes on.</summary>
        public void ReportStaleServedOnTimeout()
        {
            _span?.SetTag(CachingTelemetry.StaleTag, "timeout");
            _owner.ReportStaleOnTimeout(_key, _entry, StaleSince);
        }

        /// <summary>Logs a load that went on past its soft timeout and failed.</summary>
        public void ReportFailedAfterTimeout(Exception failure)
        {
            CachingTelemetry.Failed(_span, failure);
            Log.ReloadAfterTimeoutFailed(_owner._logger, _key, failure);
        }

        /// <summary>
        /// Stores the loaded bytes: refused (false) when this load may not store, when an invalidation or another
        /// write came in since the lookup, or when the store fails (logged).
        /// </summary>
        public async ValueTask<bool> StoreAsync(byte[] value, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(value);
            if (_lookup is not { } lookup || _stored is not null || Volatile.Read(ref _done) != 0)
            {
                return false;
            }

            if (!await _owner.TryStoreAsync(_key, value, _entry, lookup, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            _stored = value;
            return true;
        }

        /// <summary>Ends the load: followers get the stored bytes (or load for themselves); an unused lease is given back.</summary>
        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
            {
                return;
            }

            _span?.SetTag(CachingTelemetry.StoredTag, _stored is not null);
            _span?.Stop();

            if (_stored is null && _lookup is { HoldsLease: true, Restore: not null } reload)
            {
                // A reload that stored nothing puts the stale entry back first; this process's followers then read
                // for themselves, and find it (stale-if-error answers them too).
                await _owner.TryReleaseLeaseAsync(_key, reload).ConfigureAwait(false);
                _owner.Complete(_flight, _lead, MissCoalescer.ReadYourself);
                return;
            }

            _owner.Complete(_flight, _lead, _stored);
            if (_stored is null && _lookup is { HoldsLease: true } held)
            {
                await _owner.TryReleaseLeaseAsync(_key, held).ConfigureAwait(false);
            }
        }
    }
}
