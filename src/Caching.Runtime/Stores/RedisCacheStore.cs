using System.Diagnostics;
using Caching.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Caching.Stores;

/// <summary>
/// The Redis store, through StackExchange.Redis. Every command touches one key or keys of one hash slot, so
/// the store works unchanged on Redis Cluster.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Set is one <c>SET key value PX ttl</c>: a key never exists without its time to live.</item>
/// <item>Deletes use UNLINK, keys grouped by hash slot and sent in chunks of <see cref="CachingOptions.DeleteBatchSize"/>.</item>
/// <item>Pattern deletes SCAN every primary concurrently (never KEYS) and delete each page while the next pages are
/// scanned, at most four pages in flight.</item>
/// <item>A tag is a sorted set under <c>{InternalKeyPrefix}tag:{tag}</c>: member = key, score = the entry's expiry.
/// Filing trims expired members and keeps the set alive only as long as its longest-lived entry; invalidation
/// ZSCANs it and UNLINKs the members.</item>
/// <item>A namespace version is a string under <c>{InternalKeyPrefix}ns:{namespace}</c>.</item>
/// </list>
/// </remarks>
public sealed class RedisCacheStore : ICacheStore, IAsyncDisposable
{
    // One key per call, so it runs on any cluster node that owns the tag. ARGV: score, member, now, ttl in ms.
    private const string FileUnderTagScript = """
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < tonumber(ARGV[4]) then
          redis.call('PEXPIRE', KEYS[1], ARGV[4])
        end
        return 1
        """;

    private const int MaxPagesInFlight = 4;

    // Single-key compare-and-set / compare-and-delete on a lease: atomic, and cluster-safe.
    private const string SetIfLeaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
          return 1
        end
        return 0
        """;

    private const string ReleaseLeaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly IDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _internalPrefix;
    private readonly int _scanPageSize;
    private readonly int _deleteBatchSize;

    /// <summary>Creates the store over a connection.</summary>
    /// <param name="connection">The Redis connection.</param>
    /// <param name="ownsConnection">Whether disposing the store closes the connection.</param>
    /// <param name="options">The caching options.</param>
    /// <param name="timeProvider">The clock used to trim expired tag filings.</param>
    /// <param name="logger">The logger.</param>
    public RedisCacheStore(IConnectionMultiplexer connection, bool ownsConnection, IOptions<CachingOptions> options, TimeProvider timeProvider, ILogger<RedisCacheStore> logger)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        _connection = connection;
        _ownsConnection = ownsConnection;
        _database = connection.GetDatabase();
        _time = timeProvider;
        _logger = logger;
        _internalPrefix = options.Value.InternalKeyPrefix;
        _scanPageSize = options.Value.ScanPageSize;
        _deleteBatchSize = options.Value.DeleteBatchSize;
    }

    /// <inheritdoc />
    public string Name => "redis";

    /// <summary>The connection the store uses.</summary>
    public IConnectionMultiplexer Connection => _connection;

    /// <inheritdoc />
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        RedisValue value = await _database.StringGetAsync(key).ConfigureAwait(false);
        return value.IsNull ? null : (byte[]?)value;
    }

    /// <inheritdoc />
    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        await _database.StringSetAsync(key, value, timeToLive, When.Always).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<TimeSpan?> GetTimeToLiveAsync(string key, CancellationToken cancellationToken = default)
    {
        return await _database.KeyTimeToLiveAsync(key).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<long> DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        var redisKeys = new RedisKey[keys.Count];
        int i = 0;
        foreach (string key in keys)
        {
            redisKeys[i++] = key;
        }

        return await UnlinkAsync(redisKeys).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<PatternDeleteResult> DeleteByPatternAsync(string pattern, CancellationToken cancellationToken = default)
    {
        long started = Stopwatch.GetTimestamp();
        IServer[] primaries = GetPrimaries();
        PatternDeleteResult[] perServer = await Task.WhenAll(primaries.Select(server => DeleteOnServerAsync(server, pattern, cancellationToken))).ConfigureAwait(false);
        var total = new PatternDeleteResult(perServer.Sum(static r => r.Matched), perServer.Sum(static r => r.Deleted));
        Log.PatternDeleted(_logger, pattern, primaries.Length, total.Matched, total.Deleted, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return total;
    }

    /// <inheritdoc />
    public async ValueTask AddToTagsAsync(string key, IReadOnlyCollection<string> tags, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        long ttlMs = Math.Max(1, (long)Math.Ceiling(timeToLive.TotalMilliseconds));
        RedisValue[] args = [now + ttlMs, key, now, ttlMs];
        var filings = new List<Task>(tags.Count);
        foreach (string tag in tags)
        {
            filings.Add(_database.ScriptEvaluateAsync(FileUnderTagScript, [TagKey(tag)], args));
        }

        await Task.WhenAll(filings).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        // ZSCAN the index (single key: cluster-safe) and UNLINK its members page by page, a few pages in flight.
        // Filings are not removed: they expire with their entries (filing trims them), and an entry stored again
        // under the tag while this runs stays filed, so the next invalidation still finds it.
        var pending = new Queue<Task<long>>();
        var page = new List<RedisKey>(_deleteBatchSize);
        long deleted = 0;
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await foreach (SortedSetEntry filing in _database.SortedSetScanAsync(TagKey(tag), pageSize: _scanPageSize).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (filing.Score <= now)
            {
                continue;
            }

            page.Add((string?)filing.Element);
            if (page.Count >= _deleteBatchSize)
            {
                deleted += await EnqueueAsync(pending, UnlinkAsync(page.ToArray())).ConfigureAwait(false);
                page.Clear();
            }
        }

        if (page.Count > 0)
        {
            pending.Enqueue(UnlinkAsync(page.ToArray()));
        }

        foreach (Task<long> remaining in pending)
        {
            deleted += await remaining.ConfigureAwait(false);
        }

        return deleted;
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        return await _database.StringSetAsync(key, lease, timeToLive, When.NotExists).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> SetIfLeaseAsync(string key, ReadOnlyMemory<byte> lease, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        long ms = Math.Max(1, (long)Math.Ceiling(timeToLive.TotalMilliseconds));
        RedisResult result = await _database.ScriptEvaluateAsync(SetIfLeaseScript, [key], [lease, value, ms]).ConfigureAwait(false);
        return (long)result == 1;
    }

    /// <inheritdoc />
    public async ValueTask ReleaseLeaseAsync(string key, ReadOnlyMemory<byte> lease, CancellationToken cancellationToken = default)
    {
        await _database.ScriptEvaluateAsync(ReleaseLeaseScript, [key], [lease]).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<string?> GetNamespaceVersionAsync(string namespaceName, CancellationToken cancellationToken = default)
    {
        RedisValue value = await _database.StringGetAsync(NamespaceKey(namespaceName)).ConfigureAwait(false);
        return value.IsNull ? null : (string?)value;
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryCreateNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        return await _database.StringSetAsync(NamespaceKey(namespaceName), version, lifetime, When.NotExists).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask SetNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        await _database.StringSetAsync(NamespaceKey(namespaceName), version, lifetime, When.Always).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ownsConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private RedisKey TagKey(string tag) => _internalPrefix + "tag:" + tag;

    private RedisKey NamespaceKey(string namespaceName) => _internalPrefix + "ns:" + namespaceName;

    private IServer[] GetPrimaries()
    {
        IServer[] servers = _connection.GetServers();
        IServer[] primaries = servers.Where(static s => !s.IsReplica).ToArray();
        IServer? down = primaries.FirstOrDefault(static s => !s.IsConnected);
        if (primaries.Length == 0 || down is not null)
        {
            // A scan that skips a primary would leave its matching keys behind: refuse rather than half-invalidate.
            throw new InvalidOperationException($"Pattern delete needs every Redis primary connected, and {(down is null ? "none is" : down.EndPoint + " is not")}.");
        }

        return primaries;
    }

    private async Task<PatternDeleteResult> DeleteOnServerAsync(IServer server, string pattern, CancellationToken cancellationToken)
    {
        long matched = 0;
        long deleted = 0;
        var page = new List<RedisKey>(_scanPageSize);
        var pending = new Queue<Task<long>>();

        await foreach (RedisKey key in server.KeysAsync(_database.Database, pattern, _scanPageSize).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (IsInternal(key))
            {
                continue;
            }

            matched++;
            page.Add(key);
            if (page.Count >= _scanPageSize)
            {
                deleted += await EnqueueAsync(pending, UnlinkAsync(page.ToArray())).ConfigureAwait(false);
                page.Clear();
            }
        }

        if (page.Count > 0)
        {
            pending.Enqueue(UnlinkAsync(page.ToArray()));
        }

        foreach (Task<long> remaining in pending)
        {
            deleted += await remaining.ConfigureAwait(false);
        }

        return new PatternDeleteResult(matched, deleted);
    }

    // Keeps at most MaxPagesInFlight deletes outstanding while scanning goes on: memory stays bounded by a few
    // pages, and the network stays busy. Returns what the deletes that had to finish now deleted.
    private static async Task<long> EnqueueAsync(Queue<Task<long>> pending, Task<long> delete)
    {
        pending.Enqueue(delete);
        long deleted = 0;
        while (pending.Count > MaxPagesInFlight)
        {
            deleted += await pending.Dequeue().ConfigureAwait(false);
        }

        return deleted;
    }

    private bool IsInternal(RedisKey key)
    {
        string? text = key;
        return text is not null && text.StartsWith(_internalPrefix, StringComparison.Ordinal);
    }

    // UNLINK in chunks whose keys share a hash slot: no CROSSSLOT on a cluster, no huge single command.
    private async Task<long> UnlinkAsync(RedisKey[] keys)
    {
        if (keys.Length == 0)
        {
            return 0;
        }

        var commands = new List<Task<long>>();
        foreach (IGrouping<int, RedisKey> slot in keys.GroupBy(_connection.HashSlot))
        {
            foreach (RedisKey[] chunk in slot.Chunk(_deleteBatchSize))
            {
                commands.Add(_database.KeyDeleteAsync(chunk));
            }
        }

        long[] counts = await Task.WhenAll(commands).ConfigureAwait(false);
        return counts.Sum();
    }
}
