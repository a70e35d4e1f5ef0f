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
/// <item>Pattern deletes SCAN every primary concurrently (never KEYS) and delete each page while the next is scanned.</item>
/// <item>A tag is a sorted set under <c>{InternalKeyPrefix}tag:{tag}</c>: member = key, score = the entry's expiry.
/// Filing trims expired members and keeps the set alive only as long as its longest-lived entry.</item>
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
        RedisKey tagKey = TagKey(tag);
        long deleted = 0;

        // Take members page by page, delete their entries, then remove exactly those members. Entries filed
        // while this runs are taken too; the loop ends when the index is empty or after the members that were
        // there at the start (plus one page), so a steady stream of new filings cannot keep it running.
        long budget = await _database.SortedSetLengthAsync(tagKey).ConfigureAwait(false) + _deleteBatchSize;
        while (budget > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RedisValue[] members = await _database.SortedSetRangeByRankAsync(tagKey, 0, _deleteBatchSize - 1).ConfigureAwait(false);
            if (members.Length == 0)
            {
                break;
            }

            var keys = new RedisKey[members.Length];
            for (int i = 0; i < members.Length; i++)
            {
                keys[i] = (string?)members[i];
            }

            deleted += await UnlinkAsync(keys).ConfigureAwait(false);
            await _database.SortedSetRemoveAsync(tagKey, members).ConfigureAwait(false);
            budget -= members.Length;
        }

        return deleted;
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
        Task<long>? pending = null;

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
                // At most one page is being deleted while the next one is scanned: memory stays bounded.
                if (pending is not null)
                {
                    deleted += await pending.ConfigureAwait(false);
                }

                pending = UnlinkAsync(page.ToArray());
                page.Clear();
            }
        }

        if (pending is not null)
        {
            deleted += await pending.ConfigureAwait(false);
        }

        if (page.Count > 0)
        {
            deleted += await UnlinkAsync(page.ToArray()).ConfigureAwait(false);
        }

        return new PatternDeleteResult(matched, deleted);
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
