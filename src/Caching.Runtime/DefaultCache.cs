using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Caching;

/// <summary>The <see cref="ICache"/> registered by <c>AddAttributeCaching</c>: JSON over <see cref="CacheEngine"/>.</summary>
internal sealed class DefaultCache : ICache
{
    private readonly CacheEngine _engine;
    private readonly JsonSerializerOptions _json;
    private readonly bool _waitForLeaseHolder;
    private readonly TimeSpan _leaseWait;
    private readonly AspNetCore.MissCoalescer? _coalescer;

    public DefaultCache(CacheEngine engine, IOptions<HttpJsonOptions> jsonOptions, IOptions<CachingOptions> options)
    {
        _engine = engine;
        _json = jsonOptions.Value.SerializerOptions;
        _waitForLeaseHolder = options.Value.DistributedStampedeProtection;
        _leaseWait = options.Value.CoalescingTimeout;
        _coalescer = options.Value.CoalesceMisses ? new AspNetCore.MissCoalescer(options.Value.CoalescingTimeout) : null;
    }

    // As the endpoint runtime: a miss takes the key's lease; the value is stored only by compare-and-set on it (an
    // invalidation or a fresh write while the factory ran makes it fail), and the lease is given back otherwise.
    public async ValueTask<T> GetOrCreateAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (_coalescer is null)
        {
            return await LoadAsync(key, factory, options, null, cancellationToken).ConfigureAwait(false);
        }

        // Single flight, as for endpoints: a first look without the lease; of the concurrent misses of this
        // process, one (the leader) loads and the others take what it stored, or load themselves if it stored
        // nothing (the factory threw or returned null, an invalidation came in between, it took too long).
        CacheLookup first = await _engine.GetAsync(key, options, takeLease: false, countMiss: false, cancellationToken).ConfigureAwait(false);
        if (first.Value is { } hit)
        {
            return Deserialize<T>(hit);
        }

        string flight = options?.Namespace is { } space ? space + "\n" + key : key;
        TaskCompletionSource<byte[]?>? lead = _coalescer.TryLead(flight, _engine.InvalidationEpoch, out Task<byte[]?>? leader);
        if (lead is null)
        {
            byte[]? shared = leader is null ? null : await _coalescer.FollowAsync(leader, cancellationToken).ConfigureAwait(false);
            _engine.RecordLookup(shared is not null, options?.KeyPrefix ?? CacheEngine.UnspecifiedKeyPrefix);
            return shared is not null ? Deserialize<T>(shared) : await factory(cancellationToken).ConfigureAwait(false);
        }

        byte[]? stored = null;
        try
        {
            return await LoadAsync(key, factory, options, bytes => stored = bytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _coalescer.Complete(flight, lead, stored);
        }
    }

    // The read that takes the lease, the wait for another instance's lease holder, the factory and the store.
    private async ValueTask<T> LoadAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options, Action<byte[]>? onStored, CancellationToken cancellationToken)
    {
        CacheLookup lookup = await _engine.GetAsync(key, options, cancellationToken).ConfigureAwait(false);
        if (lookup.Value is { } stored)
        {
            onStored?.Invoke(stored.ToArray());
            return Deserialize<T>(stored);
        }

        if (lookup.LeasedByOther && _waitForLeaseHolder)
        {
            // Another caller (here or on another instance) is loading the key: take its value when it comes.
            if (await _engine.WaitForLeaseHolderAsync(key, options, _leaseWait, cancellationToken).ConfigureAwait(false) is { } loaded)
            {
                onStored?.Invoke(loaded.ToArray());
                return Deserialize<T>(loaded);
            }

            // It gave up (released, expired, or its value was refused): read once more, taking the lease if free.
            lookup = await _engine.GetAsync(key, options, takeLease: true, countMiss: false, cancellationToken).ConfigureAwait(false);
            if (lookup.Value is { } again)
            {
                onStored?.Invoke(again.ToArray());
                return Deserialize<T>(again);
            }
        }

        bool filled = false;
        try
        {
            T value = await factory(cancellationToken).ConfigureAwait(false);
            if (value is not null)
            {
                byte[] bytes = Serialize(value);
                filled = await _engine.SetAsync(key, bytes, options, lookup, cancellationToken).ConfigureAwait(false);
                if (filled)
                {
                    onStored?.Invoke(bytes);
                }
            }

            return value;
        }
        finally
        {
            if (!filled && lookup.HoldsLease)
            {
                await _engine.ReleaseLeaseAsync(key, lookup).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask<CacheResult<T>> TryGetAsync<T>(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        // A read that loads nothing takes no lease: a lease left behind would keep the next load from storing.
        var read = new CacheEntryOptions { Namespace = options?.Namespace, KeyPrefix = options?.KeyPrefix };
        CacheLookup lookup = await _engine.GetAsync(key, read, takeLease: false, cancellationToken).ConfigureAwait(false);
        return lookup.Value is { } stored ? new CacheResult<T>(true, Deserialize<T>(stored)) : default;
    }

    public async ValueTask SetAsync<T>(string key, T value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (value is null)
        {
            throw new ArgumentNullException(nameof(value), "A null value cannot be cached; invalidate the key instead.");
        }

        _engine.ValidateKey(key);
        await _engine.SetAsync(key, Serialize(value), options, null, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<long> InvalidateKeysAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return _engine.InvalidateKeysAsync(keys as IReadOnlyCollection<string> ?? keys.ToArray(), null, cancellationToken);
    }

    public ValueTask<long> InvalidatePatternAsync(string pattern, CancellationToken cancellationToken = default)
        => _engine.InvalidatePatternAsync(pattern, null, cancellationToken);

    public ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default)
        => _engine.InvalidateTagAsync(tag, null, cancellationToken);

    public ValueTask InvalidateNamespaceAsync(string namespaceName, CancellationToken cancellationToken = default)
        => _engine.InvalidateNamespaceAsync(namespaceName, null, cancellationToken);

    private byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>());

    private T Deserialize<T>(ReadOnlyMemory<byte> stored) => JsonSerializer.Deserialize(stored.Span, TypeInfo<T>())!;

    // Resolving through the options honours source-generated JsonSerializerContexts and stays trim-safe.
    private JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)_json.GetTypeInfo(typeof(T));
}
