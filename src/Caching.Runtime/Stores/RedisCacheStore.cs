using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
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
/// Outages are per node: a command for a key whose primary is not connected is refused at once with
/// <see cref="CacheStoreUnavailableException"/> (never sent to wait for a connect or command timeout), and a node
/// whose commands keep failing or timing out gets a breaker of its own, so keys on the primaries that are up keep
/// being served. Every store failure is reported as <see cref="CacheStoreUnavailableException"/> (the cause inside):
/// the engine's single breaker then never suspends the whole store because of one node. Multi-node operations
/// (pattern deletes, tag invalidations, multi-key deletes) fail as a whole when any node they need is down, so an
/// invalidation is never reported done while entries on an unreachable node survive it.
/// </remarks>
public sealed class RedisCacheStore : ICacheStore, IStoreAvailability, IAsyncDisposable
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

    // Files KEYS[1] in its slot's index KEYS[2] (see KeysIndex): score = its expiry by the server's clock, expired
    // filings trimmed, the index kept alive as long as its longest-lived entry.
    private const string FileInIndex = """
        redis.replicate_commands()
        local function file(ms)
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          redis.call('ZADD', KEYS[2], now + tonumber(ms), KEYS[1])
          redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
          if redis.call('PTTL', KEYS[2]) < tonumber(ms) then
            redis.call('PEXPIRE', KEYS[2], ms)
          end
        end
        """;

    // Compare-and-set on a lease, filing the entry in its slot's index: atomic, and cluster-safe (both keys share
    // the entry's hash slot). ARGV: lease, value, ttl in ms.
    private const string SetIfLeaseScript = FileInIndex + "\n" + """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
          file(ARGV[3])
          return 1
        end
        return 0
        """;

    // An unconditional store, filed in its slot's index. ARGV: value, ttl in ms.
    private const string SetScript = FileInIndex + "\n" + """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        file(ARGV[2])
        return 1
        """;

    // Read, or take the lease when there is nothing to read, for servers older than Redis 7.0 (which cannot combine
    // SET's NX and GET options). Returns the value (or another holder's lease), or 1 when the lease was taken.
    private const string GetOrLeaseScript = """
        local value = redis.call('GET', KEYS[1])
        if value then
          return value
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')
        return 1
        """;

    private const string ReleaseLeaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    private readonly IConnectionMultiplexer _connection;

    // Set when the server refused SET with both NX and GET (Redis before 7.0).
    private volatile bool _setNxGetRefused;

    // Whether lease reads run the script (Redis before 7.0); tests set it to run the script on any server.
    internal bool LeaseReadsUseScript
    {
        get => _setNxGetRefused;
        set => _setNxGetRefused = value;
    }
    private readonly bool _ownsConnection;
    private readonly IDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _internalPrefix;
    private readonly string _keysIndexPrefix;
    private readonly int _scanPageSize;
    private readonly int _deleteBatchSize;
    private readonly int _breakerFailures;
    private readonly TimeSpan _breakerDuration;
    private readonly ConcurrentDictionary<EndPoint, StoreCircuitBreaker> _nodeBreakers = new();
    private int _nodesFailing;

    // Cluster only: the primary that owns each hash slot, from the cluster's own configuration. The client's
    // IsConnected(key) cannot be used: when a slot's primary is down it answers for another node (the one the
    // command would be sent to, which replies MOVED back to the dead one).
    private volatile IServer?[]? _slotOwners;

    // Not a cluster, one endpoint: its server, checked directly (4 ns against 170 ns for IDatabase.IsConnected(key)).
    private volatile IServer? _singleServer;

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
        _keysIndexPrefix = _internalPrefix + "keys:{";
        _scanPageSize = options.Value.ScanPageSize;
        _deleteBatchSize = options.Value.DeleteBatchSize;
        _breakerFailures = options.Value.CircuitBreakerFailures;
        _breakerDuration = options.Value.CircuitBreakerDuration;
        connection.ConfigurationChanged += OnTopologyChanged;
        connection.HashSlotMoved += OnTopologyChanged;
        connection.ConnectionRestored += OnTopologyChanged;
        RefreshSlotOwners();
    }

    /// <inheritdoc />
    public string Name => "redis";

    /// <summary>The connection the store uses.</summary>
    public IConnectionMultiplexer Connection => _connection;

    /// <inheritdoc />
    public bool IsFullyAvailable
    {
        get
        {
            IServer[] servers = _connection.GetServers();
            return servers.Length > 0 && servers.All(static s => s.IsReplica || s.IsConnected) && !_nodeBreakers.Values.Any(static b => b.IsOpen);
        }
    }

    /// <inheritdoc />
    public bool IsUnavailable => !_connection.GetServers().Any(s => !s.IsReplica && s.IsConnected && !(_nodeBreakers.TryGetValue(s.EndPoint, out StoreCircuitBreaker? b) && b.IsOpen));

    /// <inheritdoc />
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        EnsureAvailable(key);
        try
        {
            RedisValue value = await _database.StringGetAsync(key).ConfigureAwait(false);
            Succeeded(key);
            return value.IsNull ? null : (byte[]?)value;
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            throw Failed(key, ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        EnsureAvailable(key);
        try
        {
            long ms = Math.Max(1, (long)Math.Ceiling(timeToLive.TotalMilliseconds));
            await _database.ScriptEvaluateAsync(SetScript, [key, KeysIndex(key)], [value, ms]).ConfigureAwait(false);
            Succeeded(key);
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            throw Failed(key, ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask<TimeSpan?> GetTimeToLiveAsync(string key, CancellationToken cancellationToken = default)
    {
        EnsureAvailable(key);
        try
        {
            TimeSpan? left = await _database.KeyTimeToLiveAsync(key).ConfigureAwait(false);
            Succeeded(key);
            return left;
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            throw Failed(key, ex);
        }
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
            EnsureAvailable(TagKey(tag));
        }

        foreach (string tag in tags)
        {
            filings.Add(Guard(TagKey(tag), _database.ScriptEvaluateAsync(FileUnderTagScript, [TagKey(tag)], args)));
        }

        await Task.WhenAll(filings).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        // Filings are not removed: they expire with their entries (filing trims them), and an entry stored again
        // under the tag while this runs stays filed, so the next invalidation still finds it.
        RedisKey index = TagKey(tag);
        EnsureAvailable(index);
        long deleted = await DeleteMembersAsync(index, _time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
        Succeeded(index);
        return deleted;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Two passes, so that nothing loaded before the call is stored after it and no key this cache did not write is
    /// touched: first every primary is scanned (SCAN ... TYPE string, never KEYS) for leases, recognised by their
    /// bytes (<c>0xCA 0x03</c> and 18 bytes long, or a stale lease around one; <c>0xCA</c> never starts valid
    /// UTF-8) and deleted, so that a load in flight cannot store; then every entry filed in the per-slot indexes
    /// (each store files its key, in the same script) is deleted, including those a load stored during the first
    /// pass. Cost: a scan of the whole database reading the first 20 bytes of each string key, plus one ZSCAN per
    /// non-empty index (at most 16,384) and the UNLINKs.
    /// </remarks>
    public async ValueTask<long> DeleteAllAsync(CancellationToken cancellationToken = default)
    {
        long started = Stopwatch.GetTimestamp();
        IServer[] primaries = GetPrimaries();
        long[] leases = await Task.WhenAll(primaries.Select(server => DeleteLeasesOnServerAsync(server, cancellationToken))).ConfigureAwait(false);
        long entries = await DeleteIndexedAsync(primaries[0], cancellationToken).ConfigureAwait(false);
        Log.AllDeleted(_logger, primaries.Length, leases.Sum(), entries, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return leases.Sum() + entries;
    }

    // ZSCANs a sorted-set index (single key: cluster-safe) and UNLINKs its members page by page, a few pages in
    // flight; members whose score is at or before expiredBefore (already expired) are skipped.
    private async Task<long> DeleteMembersAsync(RedisKey index, long expiredBefore, CancellationToken cancellationToken)
    {
        var pending = new Queue<Task<long>>();
        var page = new List<RedisKey>(_deleteBatchSize);
        long deleted = 0;
        try
        {
            await foreach (SortedSetEntry filing in _database.SortedSetScanAsync(index, pageSize: _scanPageSize).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (filing.Score <= expiredBefore)
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
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            // A member on a node that is down stays: the invalidation fails (and is replayed), never half done.
            throw Failed(index, ex);
        }

        return deleted;
    }

    // Every slot's index, a batch of slots at a time: the empty ones cost one ZCARD each (pipelined).
    private async Task<long> DeleteIndexedAsync(IServer clock, CancellationToken cancellationToken)
    {
        const int Batch = 512;
        long deleted = 0;

        // Members are scored with their entry's expiry by the server's clock: one already expired names a key this
        // cache no longer holds (someone else may have written it since), so it is left alone. A few seconds of
        // margin for the clocks of a cluster's nodes.
        long now;
        try
        {
            now = new DateTimeOffset(DateTime.SpecifyKind(await clock.TimeAsync().ConfigureAwait(false), DateTimeKind.Utc)).ToUnixTimeMilliseconds() - 5_000;
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            throw FailedNode(clock.EndPoint, ex);
        }

        for (int first = 0; first < HashSlots.Count; first += Batch)
        {
            RedisKey[] indexes = Enumerable.Range(first, Batch).Select(slot => (RedisKey)(_keysIndexPrefix + HashSlots.TagFor(slot) + "}")).ToArray();
            foreach (RedisKey index in indexes)
            {
                EnsureAvailable(index);
            }

            long[] sizes;
            try
            {
                sizes = await Task.WhenAll(indexes.Select(index => _database.SortedSetLengthAsync(index))).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsOutage(ex))
            {
                throw Failed(indexes[0], ex);
            }

            for (int i = 0; i < indexes.Length; i++)
            {
                if (sizes[i] > 0)
                {
                    deleted += await DeleteMembersAsync(indexes[i], now, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return deleted;
    }

    // One primary's leases: SCAN its string keys, read the first bytes of each page's keys (pipelined), UNLINK the
    // leases among them.
    private async Task<long> DeleteLeasesOnServerAsync(IServer server, CancellationToken cancellationToken)
    {
        long deleted = 0;
        ulong cursor = 0;
        try
        {
            do
            {
                cancellationToken.ThrowIfCancellationRequested();
                var reply = (RedisResult[])(await server.ExecuteAsync("SCAN", cursor.ToString(System.Globalization.CultureInfo.InvariantCulture), "COUNT", _scanPageSize, "TYPE", "string").ConfigureAwait(false))!;
                cursor = ulong.Parse((string)reply[0]!, System.Globalization.CultureInfo.InvariantCulture);
                RedisKey[] keys = ((RedisKey[])reply[1]!).Where(key => !IsInternal(key)).ToArray();
                RedisValue[] heads = await Task.WhenAll(keys.Select(key => _database.StringGetRangeAsync(key, 0, 19))).ConfigureAwait(false);
                RedisKey[] leases = keys.Where((_, i) => IsLease(heads[i])).ToArray();
                deleted += await UnlinkAsync(leases).ConfigureAwait(false);
            }
            while (cursor != 0);
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            throw FailedNode(server.EndPoint, ex);
        }

        return deleted;
    }

    // A lease (NamespaceEnvelope.NewLease: 0xCA 0x03 and 16 bytes), or a stale lease around one (TimedEntry:
    // 0xCA 0x09 or 0xCA 0x08, then the lease).
    private static bool IsLease(RedisValue head)
    {
        if (head.IsNull)
        {
            return false;
        }

        ReadOnlySpan<byte> bytes = ((ReadOnlyMemory<byte>)head).Span;
        return bytes.Length >= 2 && bytes[0] == 0xCA
            && ((bytes[1] == 0x03 && bytes.Length == 18) || ((bytes[1] == 0x09 || bytes[1] == 0x08) && bytes.Length >= 4 && bytes[2] == 0xCA && bytes[3] == 0x03));
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        EnsureAvailable(key);
        return await Guard(key, _database.StringSetAsync(key, lease, timeToLive, When.NotExists)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// One native command on Redis 7.0 and later, <c>SET key lease NX GET PX ms</c>: it returns what the key held and
    /// sets the lease only when it held nothing, at about the cost of a GET. Older servers refuse NX with GET; the store
    /// then switches, once, to a script that does the same.
    /// </remarks>
    public async ValueTask<LeaseRead> GetOrAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan leaseTimeToLive, CancellationToken cancellationToken = default)
    {
        EnsureAvailable(key);
        if (!_setNxGetRefused)
        {
            try
            {
                RedisValue held = await Guard(key, _database.StringSetAndGetAsync(key, lease, leaseTimeToLive, keepTtl: false, When.NotExists)).ConfigureAwait(false);
                return held.IsNull ? new LeaseRead(null, true) : new LeaseRead((byte[]?)held, false);
            }
            catch (RedisServerException ex) when (ex.Message.Contains("syntax", StringComparison.OrdinalIgnoreCase))
            {
                _setNxGetRefused = true;
            }
        }

        long ms = Math.Max(1, (long)Math.Ceiling(leaseTimeToLive.TotalMilliseconds));
        RedisResult result = await Guard(key, _database.ScriptEvaluateAsync(GetOrLeaseScript, [key], [lease, ms])).ConfigureAwait(false);
        return result.Resp2Type == ResultType.Integer ? new LeaseRead(null, true) : new LeaseRead((byte[]?)result, false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> SetIfLeaseAsync(string key, ReadOnlyMemory<byte> lease, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        long ms = Math.Max(1, (long)Math.Ceiling(timeToLive.TotalMilliseconds));
        EnsureAvailable(key);
        RedisResult result = await Guard(key, _database.ScriptEvaluateAsync(SetIfLeaseScript, [key, KeysIndex(key)], [lease, value, ms])).ConfigureAwait(false);
        return (long)result == 1;
    }

    /// <inheritdoc />
    public async ValueTask ReleaseLeaseAsync(string key, ReadOnlyMemory<byte> lease, CancellationToken cancellationToken = default)
    {
        EnsureAvailable(key);
        await Guard(key, _database.ScriptEvaluateAsync(ReleaseLeaseScript, [key], [lease])).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<string?> GetNamespaceVersionAsync(string namespaceName, CancellationToken cancellationToken = default)
    {
        RedisKey key = NamespaceKey(namespaceName);
        EnsureAvailable(key);
        RedisValue value = await Guard(key, _database.StringGetAsync(key)).ConfigureAwait(false);
        return value.IsNull ? null : (string?)value;
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryCreateNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        RedisKey key = NamespaceKey(namespaceName);
        EnsureAvailable(key);
        return await Guard(key, _database.StringSetAsync(key, version, lifetime, When.NotExists)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask SetNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        RedisKey key = NamespaceKey(namespaceName);
        EnsureAvailable(key);
        await Guard(key, _database.StringSetAsync(key, version, lifetime, When.Always)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _connection.ConfigurationChanged -= OnTopologyChanged;
        _connection.HashSlotMoved -= OnTopologyChanged;
        _connection.ConnectionRestored -= OnTopologyChanged;
        if (_ownsConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private RedisKey TagKey(string tag) => _internalPrefix + "tag:" + tag;

    // The index every entry of key's hash slot is filed in (a sorted set: member = key, score = expiry), named with a
    // hash tag of that slot so that the store's script touches both keys on any cluster node: what DeleteAllAsync
    // deletes, and only that.
    private RedisKey KeysIndex(string key) => _keysIndexPrefix + HashSlots.TagFor(HashSlots.Of(key)) + "}";

    private RedisKey NamespaceKey(string namespaceName) => _internalPrefix + "ns:" + namespaceName;

    private IServer[] GetPrimaries()
    {
        IServer[] servers = _connection.GetServers();
        IServer[] primaries = servers.Where(static s => !s.IsReplica).ToArray();
        IServer? down = primaries.FirstOrDefault(s => !s.IsConnected || (Volatile.Read(ref _nodesFailing) != 0 && _nodeBreakers.TryGetValue(s.EndPoint, out StoreCircuitBreaker? b) && b.IsOpen));
        if (primaries.Length == 0 || down is not null)
        {
            // A scan that skips a primary would leave its matching keys behind: refuse rather than half-invalidate
            // (the caller queues the invalidation and replays it once every primary answers).
            throw new CacheStoreUnavailableException($"Pattern delete needs every Redis primary connected, and {(down is null ? "none is" : down.EndPoint + " is not")}.");
        }

        return primaries;
    }

    private async Task<PatternDeleteResult> DeleteOnServerAsync(IServer server, string pattern, CancellationToken cancellationToken)
    {
        long matched = 0;
        long deleted = 0;
        var page = new List<RedisKey>(_scanPageSize);
        var pending = new Queue<Task<long>>();

        try
        {
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
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            throw FailedNode(server.EndPoint, ex);
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
        IGrouping<int, RedisKey>[] slots = keys.GroupBy(_connection.HashSlot).ToArray();
        foreach (IGrouping<int, RedisKey> slot in slots)
        {
            // All or nothing as far as we can tell: a delete that skips a down node's keys must not report success.
            EnsureAvailable(slot.First());
        }

        foreach (IGrouping<int, RedisKey> slot in slots)
        {
            foreach (RedisKey[] chunk in slot.Chunk(_deleteBatchSize))
            {
                commands.Add(Guard(chunk[0], _database.KeyDeleteAsync(chunk)));
            }
        }

        long[] counts = await Task.WhenAll(commands).ConfigureAwait(false);
        return counts.Sum();
    }

    // Refuses at once a command whose node is known to be down: not connected (a dead primary would otherwise cost
    // a connect or command timeout, or bounce between nodes), or its breaker open after repeated failures.
    private void EnsureAvailable(RedisKey key)
    {
        IServer?[]? owners = _slotOwners;
        if (owners is not null)
        {
            if (owners[_connection.HashSlot(key)] is not { IsConnected: true })
            {
                // The slot may have moved (a replica promoted): look at the client's cluster map again, at most
                // once a second, and have the client re-read it from the cluster at most every five seconds.
                RefreshAfterRefusal();
                throw new CacheStoreUnavailableException($"The Redis primary that owns key '{Shorten(key)}' is not connected.");
            }
        }
        else if (!(_singleServer is { } single ? single.IsConnected : _database.IsConnected(key)))
        {
            throw new CacheStoreUnavailableException($"The Redis node that owns key '{Shorten(key)}' is not connected.");
        }

        if (Volatile.Read(ref _nodesFailing) != 0 && NodeBreaker(key) is { } breaker)
        {
            breaker.ThrowIfOpen();
        }
    }

    private async Task<T> Guard<T>(RedisKey key, Task<T> command)
    {
        try
        {
            T result = await command.ConfigureAwait(false);
            Succeeded(key);
            return result;
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            throw Failed(key, ex);
        }
    }

    private async Task Guard(RedisKey key, Task command)
    {
        try
        {
            await command.ConfigureAwait(false);
            Succeeded(key);
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            throw Failed(key, ex);
        }
    }

    private void Succeeded(RedisKey key)
    {
        if (Volatile.Read(ref _nodesFailing) != 0 && NodeBreaker(key) is { } breaker && breaker.ConsecutiveFailures > 0)
        {
            breaker.RecordSuccess();
            if (_nodeBreakers.Values.All(static b => b.ConsecutiveFailures == 0))
            {
                Volatile.Write(ref _nodesFailing, 0);
            }
        }
    }

    private CacheStoreUnavailableException Failed(RedisKey key, Exception ex)
    {
        return FailedNode(NodeOf(key), ex, $"key '{Shorten(key)}'");
    }

    // Counts the failure against the node (its own breaker), and reports it as the store being unavailable: one
    // node's trouble never opens the engine's breaker for every key.
    private CacheStoreUnavailableException FailedNode(EndPoint? node, Exception ex, string? what = null)
    {
        if (ex is CacheStoreUnavailableException unavailable)
        {
            return unavailable;
        }

        if (node is not null)
        {
            StoreCircuitBreaker breaker = _nodeBreakers.GetOrAdd(node, _ => new StoreCircuitBreaker(_breakerFailures, _breakerDuration, _time));
            Volatile.Write(ref _nodesFailing, 1);
            breaker.RecordFailure();
        }

        return new CacheStoreUnavailableException($"Redis node {node?.ToString() ?? "(none)"} failed{(what is null ? string.Empty : " for " + what)}: {ex.Message}", ex);
    }

    private StoreCircuitBreaker? NodeBreaker(RedisKey key)
        => NodeOf(key) is { } node && _nodeBreakers.TryGetValue(node, out StoreCircuitBreaker? breaker) ? breaker : null;

    // The node a key's commands are meant for: its slot's primary on a cluster, else the (single) server.
    private EndPoint? NodeOf(RedisKey key)
    {
        if (_slotOwners is { } owners)
        {
            return owners[_connection.HashSlot(key)]?.EndPoint;
        }

        if (_singleServer is { } single)
        {
            return single.EndPoint;
        }

        try
        {
            return _connection.GetServer(key).EndPoint;
        }
        catch (Exception ex) when (ex is RedisException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

    private void OnTopologyChanged(object? sender, EventArgs e) => RefreshSlotOwners();

    private long _lastMapRefresh;
    private long _lastReconfigure;

    private void RefreshAfterRefusal()
    {
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _lastMapRefresh);
        if (now - last >= 1000 && Interlocked.CompareExchange(ref _lastMapRefresh, now, last) == last)
        {
            RefreshSlotOwners();
            long reconfigured = Interlocked.Read(ref _lastReconfigure);
            if (now - reconfigured >= 5000 && Interlocked.CompareExchange(ref _lastReconfigure, now, reconfigured) == reconfigured)
            {
                _ = ReconfigureAsync();
            }
        }
    }

    private async Task ReconfigureAsync()
    {
        try
        {
            // Raises ConfigurationChanged when the map changed, which refreshes ours.
            await _connection.ConfigureAsync().ConfigureAwait(false);
            RefreshSlotOwners();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException or ObjectDisposedException)
        {
            // Tried again on a later refusal.
        }
    }

    private void RefreshSlotOwners()
    {
        try
        {
            IServer[] servers = _connection.GetServers();
            if (!servers.Any(static s => s.ServerType == ServerType.Cluster))
            {
                _slotOwners = null;
                _singleServer = servers.Length == 1 ? servers[0] : null;
                return;
            }

            _singleServer = null;

            ClusterConfiguration? configuration = servers.Where(static s => s.IsConnected && s.ServerType == ServerType.Cluster).Select(static s => s.ClusterConfiguration).FirstOrDefault(static c => c is not null);
            if (configuration is null)
            {
                return; // keep what we knew until a node answers
            }

            var owners = new IServer?[16384];
            foreach (ClusterNode node in configuration.Nodes)
            {
                if (node.IsReplica || node.EndPoint is null)
                {
                    continue;
                }

                IServer server = _connection.GetServer(node.EndPoint);
                foreach (SlotRange range in node.Slots)
                {
                    for (int slot = range.From; slot <= range.To; slot++)
                    {
                        owners[slot] = server;
                    }
                }
            }

            _slotOwners = owners;
        }
        catch (Exception ex) when (ex is RedisException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            // Keep the previous map: a command for a slot with no known owner is refused, never sent to wait.
        }
    }

    // Failures that say the node cannot serve now (as opposed to a bad command): connection loss, timeouts, and the
    // server errors of a cluster or a node that is not ready.
    private static bool IsOutage(Exception ex) => ex switch
    {
        CacheStoreUnavailableException or RedisConnectionException or TimeoutException or ObjectDisposedException => true,
        RedisServerException server => server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal),
        _ => false,
    };

    private static string Shorten(RedisKey key)
    {
        string text = key.ToString();
        return text.Length <= 64 ? text : text[..64] + "…";
    }
}
