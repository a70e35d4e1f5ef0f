using System.Collections.Concurrent;
using Caching.AspNetCore;
using Caching.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Caching;

/// <summary>
/// Invalidations that failed because the store was down, kept (up to
/// <see cref="CachingOptions.MaxPendingInvalidations"/>) and replayed in order once it is back. Past the bound,
/// every application entry is flushed on recovery instead. While anything is pending, reads bypass the cache, so
/// no entry that should have been invalidated is served.
/// </summary>
public sealed class PendingInvalidations : IDisposable
{
    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly CacheEngine _engine;
    private readonly ILogger _logger;
    private readonly int _capacity;
    private readonly ITimer _timer;
    private int _count;
    private int _overflowed;
    private int _replaying;

    /// <summary>Creates the backlog and its retry timer.</summary>
    /// <param name="engine">The cache engine.</param>
    /// <param name="options">The caching options.</param>
    /// <param name="timeProvider">The clock of the retry timer.</param>
    /// <param name="logger">The logger.</param>
    public PendingInvalidations(CacheEngine engine, IOptions<CachingOptions> options, TimeProvider timeProvider, ILogger<PendingInvalidations> logger)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        _engine = engine;
        _logger = logger;
        _capacity = options.Value.MaxPendingInvalidations;
        engine.Backlog = this;
        TimeSpan interval = options.Value.InvalidationRetryInterval;
        _timer = timeProvider.CreateTimer(static state => _ = ((PendingInvalidations)state!).TryReplayAsync(), this, interval, interval);
    }

    /// <summary>Whether failed invalidations wait for the store to come back.</summary>
    public bool HasPending => Volatile.Read(ref _count) > 0 || Volatile.Read(ref _overflowed) != 0;

    /// <summary>How many failed invalidations wait.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether more failed than the bound allows: recovery will flush every application entry.</summary>
    public bool Overflowed => Volatile.Read(ref _overflowed) != 0;

    /// <summary>Keeps an invalidation that failed, to replay it later.</summary>
    /// <param name="set">What to invalidate.</param>
    /// <param name="keyPrefix">The key prefix reported in metrics.</param>
    public void Add(InvalidationSet set, string keyPrefix)
    {
        ArgumentNullException.ThrowIfNull(set);
        _engine.ForgetLoadsInFlight();
        if (Interlocked.Increment(ref _count) > _capacity)
        {
            Interlocked.Decrement(ref _count);
            if (Interlocked.Exchange(ref _overflowed, 1) == 0)
            {
                Log.InvalidationBacklogOverflowed(_logger, _capacity);
            }

            return;
        }

        _queue.Enqueue(new Pending(set, keyPrefix));
    }

    /// <summary>Replays what is pending if the store accepts calls again; stops at the first failure.</summary>
    /// <returns><see langword="true"/> when nothing is pending any more.</returns>
    public async Task<bool> TryReplayAsync()
    {
        if (!HasPending)
        {
            return true;
        }

        if (_engine.IsStoreSuspended || Interlocked.Exchange(ref _replaying, 1) == 1)
        {
            return false;
        }

        try
        {
            if (Overflowed)
            {
                // Too much was missed to replay: remove every application entry (tag indexes and namespace
                // versions stay; their entries are gone).
                int before = _queue.Count;
                long flushed = await _engine.InvalidateAllAsync().ConfigureAwait(false);

                // Only what was queued before the flush: later invalidations may target keys refilled since.
                for (int i = 0; i < before && _queue.TryDequeue(out _); i++)
                {
                    Interlocked.Decrement(ref _count);
                }

                Volatile.Write(ref _overflowed, 0);
                Log.BacklogFlushed(_logger, flushed);
                return true;
            }

            int replayed = 0;
            while (_queue.TryPeek(out Pending? next))
            {
                await ApplyAsync(_engine, next.Set, next.KeyPrefix, writeThrough: null).ConfigureAwait(false);
                _queue.TryDequeue(out _);
                Interlocked.Decrement(ref _count);
                replayed++;
            }

            Log.BacklogReplayed(_logger, replayed);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.BacklogReplayFailed(_logger, Count, ex);
            return false;
        }
        finally
        {
            Volatile.Write(ref _replaying, 0);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _timer.Dispose();

    /// <summary>Carries out one invalidation set: keys, patterns, tags, namespaces, then the write-through value.</summary>
    internal static async Task ApplyAsync(CacheEngine engine, InvalidationSet set, string keyPrefix, (byte[] Value, CacheEntryOptions Options)? writeThrough)
    {
        var keys = new List<string>(1 + (set.Keys?.Length ?? 0));
        if (writeThrough is null)
        {
            keys.Add(set.OwnKey);
        }

        if (set.Keys is not null)
        {
            keys.AddRange(set.Keys);
        }

        // Run to completion even if the client goes away: a half-done invalidation leaves stale data.
        await engine.InvalidateKeysAsync(keys, keyPrefix, CancellationToken.None).ConfigureAwait(false);
        foreach (string pattern in set.Patterns ?? [])
        {
            await engine.InvalidatePatternAsync(pattern, keyPrefix, CancellationToken.None).ConfigureAwait(false);
        }

        foreach (string tag in set.Tags ?? [])
        {
            await engine.InvalidateTagAsync(tag, keyPrefix, CancellationToken.None).ConfigureAwait(false);
        }

        foreach (string namespaceName in set.Namespaces ?? [])
        {
            await engine.InvalidateNamespaceAsync(namespaceName, keyPrefix, CancellationToken.None).ConfigureAwait(false);
        }

        if (writeThrough is { } written)
        {
            await engine.InvalidateTagAsync(CacheEngine.VariantTag(set.OwnKey), keyPrefix, CancellationToken.None).ConfigureAwait(false);
            await engine.SetAsync(set.OwnKey, written.Value, written.Options, null, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private sealed record Pending(InvalidationSet Set, string KeyPrefix);
}
