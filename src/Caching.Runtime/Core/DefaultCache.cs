using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Caching;

/// <summary>The <see cref="ICache"/> registered by <c>AddAttributeCaching</c>: JSON over <see cref="CacheEngine"/>.</summary>
internal sealed class DefaultCache : ICache
{
    private readonly CacheEngine _engine;
    private readonly ReadThrough _readThrough;
    private readonly JsonSerializerOptions _json;

    public DefaultCache(ReadThrough readThrough, IOptions<HttpJsonOptions> jsonOptions)
    {
        _readThrough = readThrough;
        _engine = readThrough.Engine;
        _json = jsonOptions.Value.SerializerOptions;
    }

    // The endpoints' read-through: single flight, the key's lease, the wait for another instance's lease holder;
    // the value is stored only by compare-and-set on the lease (an invalidation or a fresh write while the factory
    // ran makes it fail). The store failing never fails the call: the factory's value is returned, unstored.
    public async ValueTask<T> GetOrCreateAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ReadThrough.ReadStep step = await _readThrough.BeginAsync(key, options ?? Defaults, cancellationToken).ConfigureAwait(false);
        if (step.Served is { } hit)
        {
            return Deserialize<T>(hit);
        }

        LoadOutcome<T> outcome = await LoadRunner.RunAsync(step.Load!, factory, static (f, ct) => f(ct), Serialize, cancellationToken).ConfigureAwait(false);
        return outcome.Stale is { } stale ? Deserialize<T>(stale) : outcome.Value!;
    }

    // Read and store with the engine's defaults (CachingOptions.DefaultExpiration).
    private static readonly CacheEntryOptions Defaults = new();

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

    public ValueTask<long> InvalidateAllAsync(CancellationToken cancellationToken = default)
        => _engine.InvalidateAllAsync(null, cancellationToken);

    private byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>());

    // An entry an endpoint stored may be an envelope (status, headers, entity tag): its body is the value.
    private T Deserialize<T>(ReadOnlyMemory<byte> stored) => JsonSerializer.Deserialize(global::Caching.AspNetCore.StoredResponse.BodyOf(stored).Span, TypeInfo<T>())!;

    // Resolving through the options honours source-generated JsonSerializerContexts and stays trim-safe.
    private JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)_json.GetTypeInfo(typeof(T));
}
