using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Caching.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Caching.Stores;

/// <summary>
/// Two-level mode: an in-process L1 (<see cref="InMemoryCacheStore"/>) in front of Redis (L2). Every change is
/// published on a Redis channel with this instance's id, and the other instances drop their L1 copies: keys and
/// patterns precisely, tags and namespaces by clearing L1. L1 lifetimes are capped
/// (<see cref="CachingOptions.LocalCacheExpiration"/>).
/// </summary>
/// <remarks>
/// An instance serves from L1 only while it is known to hear invalidations: from the moment its connection fails
/// until its subscription is proven live again (it publishes a probe on the channel and receives it back) and L1
/// has been cleared, every read goes to Redis and nothing is put into L1. Invalidations whose Redis part or
/// publication failed are kept (up to <see cref="MaxHeldInvalidations"/>) and carried out and published as soon as
/// Redis answers again (on reconnection, and retried every <see cref="RetryInterval"/>), independently of the
/// engine's circuit breaker.
/// </remarks>
public sealed class TwoLevelCacheStore : ICacheStore, IStoreAvailability, IAsyncDisposable
{
    /// <summary>The channel invalidations are published on.</summary>
    public const string Channel = "caching:invalidations";

    private readonly RedisCacheStore _remote;
    private readonly InMemoryCacheStore _local;
    private readonly ISubscriber _subscriber;
    private readonly RedisChannel _channel = RedisChannel.Literal(Channel);
    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private readonly TimeSpan _localExpiration;
    private readonly ILogger _logger;
    private long _received;
    private long _localEpoch;
    private int _subscribed;
    private long _lastReceivedTimestamp;

    /// <summary>Most invalidations held for replay; past it, the oldest are dropped (the engine's backlog still replays them).</summary>
    public const int MaxHeldInvalidations = 10_000;

    /// <summary>How often held invalidations and the subscription probe are retried while something is pending.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(100);

    // 1 while this instance is known to hear invalidations (subscription proven live, L1 cleared since); 0 otherwise.
    private int _listening;
    private string? _probe;
    private readonly ConcurrentQueue<Func<Task>> _held = new();
    private readonly ITimer _retry;
    private int _retrying;

    /// <summary>Creates the store and subscribes to the channel.</summary>
    /// <param name="remote">The Redis store (L2).</param>
    /// <param name="local">The in-process store (L1).</param>
    /// <param name="localExpiration">The longest an entry lives in L1.</param>
    /// <param name="logger">The logger.</param>
    public TwoLevelCacheStore(RedisCacheStore remote, InMemoryCacheStore local, TimeSpan localExpiration, ILogger<TwoLevelCacheStore> logger)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(local);
        _remote = remote;
        _local = local;
        _localExpiration = localExpiration;
        _logger = logger;
        _subscriber = remote.Connection.GetSubscriber();
        remote.Connection.ConnectionRestored += OnConnectionRestored;
        remote.Connection.ConnectionFailed += OnConnectionFailed;
        _retry = TimeProvider.System.CreateTimer(static state => _ = ((TwoLevelCacheStore)state!).RetryAsync(), this, RetryInterval, RetryInterval);
        try
        {
            // A synchronous SUBSCRIBE returns once the server confirmed it: from here on, every message is heard.
            Subscribe();
            if (_subscriber.IsConnected(_channel))
            {
                Volatile.Write(ref _listening, 1);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is down (or slow) at start-up: the subscription is made, and proven, by the retry timer's probe.
            Log.StoreReadFailed(logger, Channel, ex);
        }
    }

    /// <inheritdoc />
    public string Name => "redis+local";

    /// <summary>This instance's id, carried by the messages it publishes.</summary>
    public string InstanceId => _instanceId;

    /// <summary>Invalidation messages received from other instances.</summary>
    public long MessagesReceived => Interlocked.Read(ref _received);

    /// <summary>When the last message from another instance arrived (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long LastReceivedTimestamp => Interlocked.Read(ref _lastReceivedTimestamp);

    /// <summary>The in-process level.</summary>
    public InMemoryCacheStore Local => _local;

    /// <summary>The Redis level.</summary>
    public RedisCacheStore Remote => _remote;

    /// <summary>
    /// Whether this instance is known to hear invalidations, so that its local level may serve: false from a
    /// connection failure until the subscription is proven live again and the local level was cleared.
    /// </summary>
    public bool IsListening => Volatile.Read(ref _listening) == 1;

    /// <summary>Invalidations whose Redis part or publication failed, waiting for Redis to answer.</summary>
    public int HeldInvalidations => _held.Count;

    /// <inheritdoc />
    public bool IsUnavailable => _remote.IsUnavailable;

    /// <inheritdoc />
    public bool IsFullyAvailable => _remote.IsFullyAvailable && IsListening;

    /// <inheritdoc />
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        bool listening = Volatile.Read(ref _listening) == 1;
        if (listening)
        {
            byte[]? local = await _local.GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (local is not null)
            {
                return local;
            }
        }

        // A copy read from Redis goes into L1 only if no invalidation reached L1 meanwhile, and never for longer
        // than it has left in Redis.
        long epoch = Interlocked.Read(ref _localEpoch);
        ValueTask<byte[]?> read = _remote.GetAsync(key, cancellationToken);
        ValueTask<TimeSpan?> left = _remote.GetTimeToLiveAsync(key, cancellationToken);
        byte[]? remote = await read.ConfigureAwait(false);
        TimeSpan? remaining = await left.ConfigureAwait(false);
        if (listening && remote is not null && LocalLifetime(remote, remaining) is { } ttl && Interlocked.Read(ref _localEpoch) == epoch)
        {
            await SetLocalAsync(key, remote, ttl, epoch).ConfigureAwait(false);
        }

        return remote;
    }

    /// <inheritdoc />
    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        await _remote.SetAsync(key, value, timeToLive, cancellationToken).ConfigureAwait(false);
        InvalidateLocal();
        await _local.DeleteAsync([key], cancellationToken).ConfigureAwait(false);
        await PublishOrHoldAsync('k', key).ConfigureAwait(false);
        long epoch = Interlocked.Read(ref _localEpoch);
        if (LocalLifetime(value.Span, timeToLive) is { } ttl)
        {
            // A timed entry stays in L1 only while fresh: past that, its reload goes through Redis and its lease.
            await SetLocalAsync(key, value, ttl, epoch).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask<TimeSpan?> GetTimeToLiveAsync(string key, CancellationToken cancellationToken = default) => _remote.GetTimeToLiveAsync(key, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long> DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        string[] copy = keys.ToArray();
        return await HoldOnFailureAsync(() => _remote.DeleteAsync(copy, CancellationToken.None).AsTask(), () => _local.DeleteAsync(copy).AsTask(), 'k', string.Join('\n', copy)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<PatternDeleteResult> DeleteByPatternAsync(string pattern, CancellationToken cancellationToken = default)
    {
        return await HoldOnFailureAsync(() => _remote.DeleteByPatternAsync(pattern, CancellationToken.None).AsTask(), () => _local.DeleteByPatternAsync(pattern).AsTask(), 'p', pattern).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Redis's part (<see cref="RedisCacheStore.DeleteAllAsync"/>), then every instance's local level is cleared.</remarks>
    public async ValueTask<long> DeleteAllAsync(CancellationToken cancellationToken = default)
    {
        return await HoldOnFailureAsync(
            () => _remote.DeleteAllAsync(CancellationToken.None).AsTask(),
            () =>
            {
                _local.Clear();
                return Task.CompletedTask;
            },
            'a',
            string.Empty).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask AddToTagsAsync(string key, IReadOnlyCollection<string> tags, TimeSpan timeToLive, CancellationToken cancellationToken = default)
        => _remote.AddToTagsAsync(key, tags, timeToLive, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        // L1 does not know which of its copies carry the tag: when the tag had live entries, L1 is cleared, here
        // and on the other instances (an L1 copy never outlives its entry in Redis, nor the tag's filing).
        long deleted;
        try
        {
            deleted = await _remote.InvalidateTagAsync(tag, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The tag's entries may be anywhere in L1: clear it here, and everywhere once Redis answers.
            InvalidateLocal();
            _local.Clear();
            Hold(async () =>
            {
                await _remote.InvalidateTagAsync(tag, CancellationToken.None).ConfigureAwait(false);
                await PublishAsync('*', tag).ConfigureAwait(false);
            });
            throw;
        }

        if (deleted > 0)
        {
            InvalidateLocal();
            _local.Clear();
            await PublishOrHoldAsync('*', tag).ConfigureAwait(false);
        }

        return deleted;
    }

    /// <inheritdoc />
    public ValueTask<bool> TryAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan timeToLive, CancellationToken cancellationToken = default)
        => _remote.TryAcquireLeaseAsync(key, lease, timeToLive, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<bool> SetIfLeaseAsync(string key, ReadOnlyMemory<byte> lease, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        long epoch = Interlocked.Read(ref _localEpoch);
        bool stored = await _remote.SetIfLeaseAsync(key, lease, value, timeToLive, cancellationToken).ConfigureAwait(false);
        if (stored && LocalLifetime(value.Span, timeToLive) is { } ttl)
        {
            await SetLocalAsync(key, value, ttl, epoch).ConfigureAwait(false);
        }
        else if (stored)
        {
            // A lease (a reload's, replacing a stale entry) never goes into L1; the copy L1 held is gone.
            await _local.DeleteAsync([key], cancellationToken).ConfigureAwait(false);
        }

        return stored;
    }

    // How long a copy may live in L1: never a lease; an entry kept for a stale window only while it is fresh (its
    // reload, on whichever instance, then goes through Redis and its lease); others as long as they live in Redis.
    private TimeSpan? LocalLifetime(ReadOnlySpan<byte> value, TimeSpan? remaining)
    {
        if (remaining is not { } ttl || ttl <= TimeSpan.Zero || NamespaceEnvelope.IsLease(value) || TimedEntry.IsStaleLease(value))
        {
            return null;
        }

        if (TimedEntry.FreshUntil(value) is { } freshUntil)
        {
            TimeSpan fresh = freshUntil - _local.Time.GetUtcNow();
            return fresh <= TimeSpan.Zero ? null : fresh < ttl ? fresh : ttl;
        }

        return ttl;
    }

    /// <inheritdoc />
    public ValueTask ReleaseLeaseAsync(string key, ReadOnlyMemory<byte> lease, CancellationToken cancellationToken = default)
        => _remote.ReleaseLeaseAsync(key, lease, cancellationToken);

    /// <inheritdoc />
    public ValueTask<string?> GetNamespaceVersionAsync(string namespaceName, CancellationToken cancellationToken = default)
        => _remote.GetNamespaceVersionAsync(namespaceName, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> TryCreateNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
        => _remote.TryCreateNamespaceVersionAsync(namespaceName, version, lifetime, cancellationToken);

    /// <inheritdoc />
    public ValueTask SetNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
        => _remote.SetNamespaceVersionAsync(namespaceName, version, lifetime, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _remote.Connection.ConnectionRestored -= OnConnectionRestored;
        _remote.Connection.ConnectionFailed -= OnConnectionFailed;
        await _retry.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _subscriber.UnsubscribeAsync(_channel).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Down: nothing to unsubscribe from.
        }

        _local.Dispose();
        await _remote.DisposeAsync().ConfigureAwait(false);
    }

    // Once: StackExchange.Redis restores subscriptions it made itself after reconnecting.
    private void Subscribe()
    {
        if (Volatile.Read(ref _subscribed) == 0)
        {
            _handler ??= (_, message) => OnMessage(message);
            try
            {
                _subscriber.Subscribe(_channel, _handler);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // The handler may be registered although the server never confirmed: drop it, so that the next
                // attempt does not add a second one.
                try
                {
                    _subscriber.Unsubscribe(_channel, _handler, CommandFlags.FireAndForget);
                }
                catch (Exception cleanup) when (cleanup is RedisException or TimeoutException)
                {
                }

                throw;
            }

            Volatile.Write(ref _subscribed, 1);
        }
    }

    private Action<RedisChannel, RedisValue>? _handler;

    // Any change reaching L1 moves this on, so a copy read from Redis before it is not put into L1 after it.
    private void InvalidateLocal() => Interlocked.Increment(ref _localEpoch);

    private TimeSpan Min(TimeSpan timeToLive) => timeToLive < _localExpiration ? timeToLive : _localExpiration;

    // Into L1 only while listening, and only if no invalidation reached L1 since epoch was read (checked again
    // after the write: one that came in between removes the copy).
    private async ValueTask SetLocalAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long epoch)
    {
        if (Volatile.Read(ref _listening) == 0 || Interlocked.Read(ref _localEpoch) != epoch)
        {
            return;
        }

        await _local.SetAsync(key, value, Min(timeToLive)).ConfigureAwait(false);
        if (Volatile.Read(ref _listening) == 0 || Interlocked.Read(ref _localEpoch) != epoch)
        {
            await _local.DeleteAsync([key]).ConfigureAwait(false);
        }
    }

    // Runs an invalidation's Redis part, then drops the local copies (after it, so that a read of the old value
    // that raced with it cannot put it back: the epoch moved), and publishes it. If the Redis part or the
    // publication fails, all of it is held and carried out as soon as Redis answers again. The failure is still
    // reported (the engine's backlog keeps it too).
    private async Task<T> HoldOnFailureAsync<T>(Func<Task<T>> remote, Func<Task> local, char kind, string payload)
    {
        T result;
        try
        {
            result = await remote().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Hold(async () =>
            {
                await remote().ConfigureAwait(false);
                InvalidateLocal();
                await local().ConfigureAwait(false);
                await PublishAsync(kind, payload).ConfigureAwait(false);
            });
            throw;
        }
        finally
        {
            InvalidateLocal();
            await local().ConfigureAwait(false);
        }

        await PublishOrHoldAsync(kind, payload).ConfigureAwait(false);
        return result;
    }

    private async Task PublishOrHoldAsync(char kind, string payload)
    {
        try
        {
            await PublishAsync(kind, payload).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or CacheStoreUnavailableException)
        {
            Hold(() => PublishAsync(kind, payload));
            throw new CacheStoreUnavailableException("Publishing an invalidation failed; it is published as soon as Redis answers.", ex);
        }
    }

    private void Hold(Func<Task> invalidation)
    {
        _held.Enqueue(invalidation);
        while (_held.Count > MaxHeldInvalidations && _held.TryDequeue(out _))
        {
        }
    }

    // Carries out held invalidations, in order, stopping at the first failure; and probes the subscription while
    // this instance is not listening.
    private async Task RetryAsync()
    {
        if ((_held.IsEmpty && Volatile.Read(ref _listening) == 1) || Interlocked.Exchange(ref _retrying, 1) == 1)
        {
            return;
        }

        try
        {
            while (_held.TryPeek(out Func<Task>? next))
            {
                await next().ConfigureAwait(false);
                _held.TryDequeue(out _);
            }

            if (Volatile.Read(ref _listening) == 0)
            {
                await ProbeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or CacheStoreUnavailableException or InvalidOperationException)
        {
            // Still down: the next tick tries again.
        }
        finally
        {
            Volatile.Write(ref _retrying, 0);
        }
    }

    // A probe is a message from this instance that only this instance acts on: receiving it back proves the
    // subscription is live (Redis delivers in order, so every later invalidation will be heard).
    private async Task ProbeAsync()
    {
        try
        {
            Subscribe();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return;
        }

        // The same probe is sent again on each tick until it comes back (a slow echo still counts).
        string probe = Volatile.Read(ref _probe) ?? Interlocked.CompareExchange(ref _probe, Guid.NewGuid().ToString("N"), null) ?? Volatile.Read(ref _probe)!;
        await _subscriber.PublishAsync(_channel, _instanceId + " " + ProbeKind + probe).ConfigureAwait(false);
    }

    private const char ProbeKind = '?';

    // Message: "{instance id} {kind}{payload}"; kind k = keys (newline separated), p = pattern, * = clear L1.
    private Task PublishAsync(char kind, string payload)
        => _subscriber.PublishAsync(_channel, _instanceId + " " + kind + payload);

    private void OnMessage(RedisValue message)
    {
        string text = message!;
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || space + 1 >= text.Length)
        {
            return;
        }

        if (text.AsSpan(0, space).SequenceEqual(_instanceId))
        {
            if (text[space + 1] == ProbeKind && Volatile.Read(ref _probe) is { } probe && text.AsSpan(space + 2).SequenceEqual(probe))
            {
                // Heard our own probe: the subscription is live. Messages missed before it are unknown, so L1 starts
                // empty; only then does it serve again.
                InvalidateLocal();
                _local.Clear();
                Volatile.Write(ref _probe, null);
                Volatile.Write(ref _listening, 1);
                Log.LocalCacheCleared(_logger, "subscription confirmed");
            }

            return;
        }

        string payload = text[(space + 2)..];
        if (text[space + 1] == ProbeKind)
        {
            return;
        }

        InvalidateLocal();
        switch (text[space + 1])
        {
            case 'k':
                _ = _local.DeleteAsync(payload.Split('\n'));
                break;
            case 'p':
                _ = _local.DeleteByPatternAsync(payload);
                break;
            default:
                // '*' (a tag: L1 does not know which copies carry it) and 'a' (everything): clear it all.
                _local.Clear();
                break;
        }

        Interlocked.Exchange(ref _lastReceivedTimestamp, Stopwatch.GetTimestamp());
        Interlocked.Increment(ref _received);
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        // A node that does not carry our subscription (another cluster primary) changes nothing about what this
        // instance hears; anything else, or not knowing, does.
        EndPoint? subscribed = null;
        try
        {
            subscribed = _subscriber.SubscribedEndpoint(_channel);
        }
        catch (Exception ex) when (ex is RedisException or InvalidOperationException)
        {
        }

        if (e.EndPoint is not null && subscribed is not null && !e.EndPoint.Equals(subscribed))
        {
            return;
        }

        // Invalidations may be missed from now on: L1 stops serving until the subscription is proven live again.
        Volatile.Write(ref _listening, 0);
        Volatile.Write(ref _probe, null);
        InvalidateLocal();
        _local.Clear();
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // The failure stopped L1 (OnConnectionFailed); it serves again once a probe comes back, and is cleared
        // then. Held invalidations go out now.
        _ = RetryAsync();
    }
}
