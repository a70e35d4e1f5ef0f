using System.Diagnostics;
using System.Text;
using Caching.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Caching.Stores;

/// <summary>
/// Two-level mode: an in-process L1 (<see cref="InMemoryCacheStore"/>) in front of Redis (L2). Every change is
/// published on a Redis channel with this instance's id, and the other instances drop their L1 copies: keys and
/// patterns precisely, tags and namespaces by clearing L1. L1 lifetimes are capped
/// (<see cref="CachingOptions.LocalCacheExpiration"/>), and L1 is cleared when the connection comes back, so a
/// missed message cannot keep a stale copy for long.
/// </summary>
public sealed class TwoLevelCacheStore : ICacheStore, IAsyncDisposable
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
        try
        {
            Subscribe();
        }
        catch (RedisException ex)
        {
            // Redis is down at start-up: the subscription is made when the connection comes back.
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

    /// <inheritdoc />
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        byte[]? local = await _local.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (local is not null)
        {
            return local;
        }

        // A copy read from Redis goes into L1 only if no invalidation reached L1 meanwhile, and never for longer
        // than it has left in Redis.
        long epoch = Interlocked.Read(ref _localEpoch);
        ValueTask<byte[]?> read = _remote.GetAsync(key, cancellationToken);
        ValueTask<TimeSpan?> left = _remote.GetTimeToLiveAsync(key, cancellationToken);
        byte[]? remote = await read.ConfigureAwait(false);
        TimeSpan? remaining = await left.ConfigureAwait(false);
        if (remote is not null && !NamespaceEnvelope.IsLease(remote) && remaining is { } ttl && ttl > TimeSpan.Zero && Interlocked.Read(ref _localEpoch) == epoch)
        {
            await _local.SetAsync(key, remote, Min(ttl), cancellationToken).ConfigureAwait(false);
        }

        return remote;
    }

    /// <inheritdoc />
    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        await _remote.SetAsync(key, value, timeToLive, cancellationToken).ConfigureAwait(false);
        InvalidateLocal();
        await PublishAsync('k', key).ConfigureAwait(false);
        await _local.SetAsync(key, value, Min(timeToLive), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<TimeSpan?> GetTimeToLiveAsync(string key, CancellationToken cancellationToken = default) => _remote.GetTimeToLiveAsync(key, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long> DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        long deleted = await _remote.DeleteAsync(keys, cancellationToken).ConfigureAwait(false);
        InvalidateLocal();
        await _local.DeleteAsync(keys, cancellationToken).ConfigureAwait(false);
        await PublishAsync('k', string.Join('\n', keys)).ConfigureAwait(false);
        return deleted;
    }

    /// <inheritdoc />
    public async ValueTask<PatternDeleteResult> DeleteByPatternAsync(string pattern, CancellationToken cancellationToken = default)
    {
        PatternDeleteResult result = await _remote.DeleteByPatternAsync(pattern, cancellationToken).ConfigureAwait(false);
        InvalidateLocal();
        await _local.DeleteByPatternAsync(pattern, cancellationToken).ConfigureAwait(false);
        await PublishAsync('p', pattern).ConfigureAwait(false);
        return result;
    }

    /// <inheritdoc />
    public ValueTask AddToTagsAsync(string key, IReadOnlyCollection<string> tags, TimeSpan timeToLive, CancellationToken cancellationToken = default)
        => _remote.AddToTagsAsync(key, tags, timeToLive, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        // L1 does not know which of its copies carry the tag: when the tag had live entries, L1 is cleared, here
        // and on the other instances (an L1 copy never outlives its entry in Redis, nor the tag's filing).
        long deleted = await _remote.InvalidateTagAsync(tag, cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            InvalidateLocal();
            _local.Clear();
            await PublishAsync('*', tag).ConfigureAwait(false);
        }

        return deleted;
    }

    /// <inheritdoc />
    public ValueTask<bool> TryAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan timeToLive, CancellationToken cancellationToken = default)
        => _remote.TryAcquireLeaseAsync(key, lease, timeToLive, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<bool> SetIfLeaseAsync(string key, ReadOnlyMemory<byte> lease, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        bool stored = await _remote.SetIfLeaseAsync(key, lease, value, timeToLive, cancellationToken).ConfigureAwait(false);
        if (stored)
        {
            await _local.SetAsync(key, value, Min(timeToLive), cancellationToken).ConfigureAwait(false);
        }

        return stored;
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
        await _subscriber.UnsubscribeAsync(_channel).ConfigureAwait(false);
        _local.Dispose();
        await _remote.DisposeAsync().ConfigureAwait(false);
    }

    // Once: StackExchange.Redis restores subscriptions it made itself after reconnecting.
    private void Subscribe()
    {
        if (Volatile.Read(ref _subscribed) == 0)
        {
            _subscriber.Subscribe(_channel, (_, message) => OnMessage(message));
            Volatile.Write(ref _subscribed, 1);
        }
    }

    // Any change reaching L1 moves this on, so a copy read from Redis before it is not put into L1 after it.
    private void InvalidateLocal() => Interlocked.Increment(ref _localEpoch);

    private TimeSpan Min(TimeSpan timeToLive) => timeToLive < _localExpiration ? timeToLive : _localExpiration;

    // Message: "{instance id} {kind}{payload}"; kind k = keys (newline separated), p = pattern, * = clear L1.
    private Task PublishAsync(char kind, string payload)
        => _subscriber.PublishAsync(_channel, _instanceId + " " + kind + payload);

    private void OnMessage(RedisValue message)
    {
        string text = message!;
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || text.AsSpan(0, space).SequenceEqual(_instanceId) || space + 1 >= text.Length)
        {
            return;
        }

        string payload = text[(space + 2)..];
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
                _local.Clear();
                break;
        }

        Interlocked.Exchange(ref _lastReceivedTimestamp, Stopwatch.GetTimestamp());
        Interlocked.Increment(ref _received);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // Messages may have been missed while disconnected.
        InvalidateLocal();
        _local.Clear();
        try
        {
            Subscribe();
        }
        catch (RedisException)
        {
            // Still down: the next restoration tries again.
        }
        Log.LocalCacheCleared(_logger, e.EndPoint?.ToString() ?? "redis");
    }
}
