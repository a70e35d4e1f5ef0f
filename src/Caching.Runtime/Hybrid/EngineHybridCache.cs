using Caching.Diagnostics;
using Caching.Stores;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;

namespace Caching.Hybrid;

/// <summary>
/// The <see cref="HybridCache"/> registered by <c>AddAttributeCaching</c>: the endpoints' read-through over
/// <see cref="CacheEngine"/>. Keys are the engine's keys unchanged and tags its tags, so <c>[Cache]</c> endpoints,
/// <see cref="ICache"/> and HybridCache address the same entries, and every invalidation reaches all three.
/// </summary>
internal sealed class EngineHybridCache : HybridCache
{
    /// <summary>The tag <see cref="RemoveByTagAsync(string, CancellationToken)"/> takes for "every entry".</summary>
    public const string AllTag = "*";

    // Read and store with the engine's defaults (CachingOptions.DefaultExpiration).
    private static readonly CacheEntryOptions Defaults = new();

    private readonly ReadThrough _readThrough;
    private readonly CacheEngine _engine;
    private readonly HybridSerializers _serializers;
    private readonly ILogger _logger;
    private readonly Level _level;

    public EngineHybridCache(ReadThrough readThrough, HybridSerializers serializers, ILogger<EngineHybridCache> logger)
    {
        _readThrough = readThrough;
        _engine = readThrough.Engine;
        _serializers = serializers;
        _logger = logger;
        _level = LevelOf(_engine.Store);
    }

    // Which of HybridCache's two levels the store is, for the flags: the in-process store is the local level (there is
    // no distributed one, as with Microsoft's implementation without an IDistributedCache); Redis, alone or with its
    // in-process copies (two-level mode), is the distributed level, and the local copies follow it.
    private enum Level
    {
        Local,
        Distributed,
    }

    private static Level LevelOf(ICacheStore store) => store is InMemoryCacheStore ? Level.Local : Level.Distributed;

    /// <inheritdoc />
    public override async ValueTask<T> GetOrCreateAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        cancellationToken.ThrowIfCancellationRequested();
        CacheEntryOptions entry = EntryOf(options, tags);
        _engine.ValidateKey(key);
        HybridCacheEntryFlags flags = options?.Flags ?? HybridCacheEntryFlags.None;
        bool read = CanRead(flags);
        bool write = CanWrite(flags);

        if ((flags & HybridCacheEntryFlags.DisableUnderlyingData) != 0)
        {
            // A read only: a miss answers default, as the abstraction documents.
            return read && await _readThrough.PeekAsync(key, entry, cancellationToken).ConfigureAwait(false) is { } found
                && TryDeserialize(key, found, out T? value)
                ? value!
                : default!;
        }

        if (!read)
        {
            return write ? await LoadAndWriteAsync(key, state, factory, entry, cancellationToken).ConfigureAwait(false) : await factory(state, cancellationToken).ConfigureAwait(false);
        }

        if (!write)
        {
            // Read but never store: a plain look that takes no lease (a lease left behind would keep the next load
            // from storing), then the factory, unstored.
            return await _readThrough.PeekAsync(key, entry, cancellationToken).ConfigureAwait(false) is { } hit && TryDeserialize(key, hit, out T? value)
                ? value!
                : await factory(state, cancellationToken).ConfigureAwait(false);
        }

        return await ReadThroughAsync(key, state, factory, entry, cancellationToken).ConfigureAwait(false);
    }

    // The endpoints' read-through, as ICache runs it: single flight, the key's lease, the wait for another instance's
    // lease holder, storing by compare-and-set on the lease, stale-if-error and soft timeouts.
    private async ValueTask<T> ReadThroughAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        ReadThrough.ReadStep step = await _readThrough.BeginAsync(key, entry, cancellationToken).ConfigureAwait(false);
        if (step.Served is { } served)
        {
            if (TryDeserialize(key, served, out T? value))
            {
                return value!;
            }

            // An entry this type cannot read (another shape under the same key, a type changed between deploys): it
            // is removed, as unusable, and the read goes through again, loading and storing a value of this type.
            await _engine.InvalidateKeysAsync([key], entry.KeyPrefix, cancellationToken).ConfigureAwait(false);
            step = await _readThrough.BeginAsync(key, entry, cancellationToken).ConfigureAwait(false);
            if (step.Served is { } again)
            {
                return _serializers.Deserialize<T>(again);
            }
        }

        LoadOutcome<T> outcome = await LoadRunner.RunAsync(step.Load!, state, factory, _serializers.Serialize, cancellationToken).ConfigureAwait(false);
        return outcome.Stale is { } stale ? _serializers.Deserialize<T>(stale) : outcome.Value!;
    }

    // Reads disabled, writes allowed: the factory runs and its value replaces the entry (an explicit write, as SetAsync).
    private async ValueTask<T> LoadAndWriteAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CacheEntryOptions entry, CancellationToken cancellationToken)
    {
        T value = await factory(state, cancellationToken).ConfigureAwait(false);
        if (value is not null)
        {
            try
            {
                await _engine.SetAsync(key, _serializers.Serialize(value), entry, null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not ArgumentException)
            {
                // Fail open, as the read-through does: the value is returned, unstored.
                Log.StoreWriteFailed(_logger, key, ex);
            }
        }

        return value;
    }

    // A stored value this type's serializer cannot read is logged and treated as missing, as Microsoft's HybridCache does.
    private bool TryDeserialize<T>(string key, ReadOnlyMemory<byte> stored, out T? value)
    {
        try
        {
            value = _serializers.Deserialize<T>(stored);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.HybridDeserializationFailed(_logger, key, typeof(T).Name, ex);
            value = default;
            return false;
        }
    }

    /// <inheritdoc />
    /// <remarks>A <see langword="null"/> value is never stored: the key is removed instead, so the next read loads.</remarks>
    public override async ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        CacheEntryOptions entry = EntryOf(options, tags);
        _engine.ValidateKey(key);
        if (!CanWrite(options?.Flags ?? HybridCacheEntryFlags.None))
        {
            return;
        }

        if (value is null)
        {
            await _engine.InvalidateKeysAsync([key], null, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _engine.SetAsync(key, _serializers.Serialize(value), entry, null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
        => await _engine.InvalidateKeysAsync([key], null, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override async ValueTask RemoveAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        await _engine.InvalidateKeysAsync(keys as IReadOnlyCollection<string> ?? keys.ToArray(), null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks><c>"*"</c> deletes every application entry (endpoints' and <see cref="ICache"/>'s too), as HybridCache documents.</remarks>
    public override async ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        if (tag == AllTag)
        {
            await _engine.InvalidateAllAsync(null, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _engine.InvalidateTagAsync(tag, null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask RemoveByTagAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        string[] all = tags as string[] ?? tags.ToArray();
        if (all.Contains(AllTag))
        {
            // Everything goes: the other tags add nothing.
            await _engine.InvalidateAllAsync(null, cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (string tag in all)
        {
            await _engine.InvalidateTagAsync(tag, null, cancellationToken).ConfigureAwait(false);
        }
    }

    // HybridCache's entry options as the engine's: Expiration is the entry's time to live (null: the engine's
    // DefaultExpiration); LocalCacheExpiration has no per-entry counterpart (two-level copies live at most
    // CachingOptions.LocalCacheExpiration, and never past the entry); tags are filed as the engine's tags.
    private CacheEntryOptions EntryOf(HybridCacheEntryOptions? options, IEnumerable<string>? tags)
    {
        IReadOnlyList<string>? filed = TagsOf(tags);
        return options?.Expiration is null && filed is null ? Defaults : new CacheEntryOptions { Expiration = options?.Expiration, Tags = filed };
    }

    // Tags are checked as the engine checks them (not empty, not longer than MaxKeyLength); "*" means "every entry"
    // to RemoveByTagAsync, so an entry may not carry it.
    private IReadOnlyList<string>? TagsOf(IEnumerable<string>? tags)
    {
        if (tags is null)
        {
            return null;
        }

        string[] filed = tags as string[] ?? tags.ToArray();
        if (filed.Length == 0)
        {
            return null;
        }

        foreach (string tag in filed)
        {
            _engine.ValidateName(tag, "tag", nameof(tags));
            if (tag == AllTag)
            {
                throw new ArgumentException("The tag \"*\" stands for every entry in RemoveByTagAsync; an entry cannot carry it.", nameof(tags));
            }
        }

        return filed;
    }

    // Whether the store may be read: the flag of the level the store is (see Level).
    private bool CanRead(HybridCacheEntryFlags flags)
        => (flags & (_level == Level.Local ? HybridCacheEntryFlags.DisableLocalCacheRead : HybridCacheEntryFlags.DisableDistributedCacheRead)) == 0;

    // Whether the store may be written: the flag of the level the store is (see Level).
    private bool CanWrite(HybridCacheEntryFlags flags)
        => (flags & (_level == Level.Local ? HybridCacheEntryFlags.DisableLocalCacheWrite : HybridCacheEntryFlags.DisableDistributedCacheWrite)) == 0;
}
