using Microsoft.Extensions.Logging;

namespace Caching.Diagnostics;

/// <summary>Every log line the runtime writes, as <see cref="LoggerMessageAttribute"/> methods.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Caching uses the {Store} store")]
    public static partial void StoreSelected(ILogger logger, string store);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Caching reuses the IConnectionMultiplexer registered in the service collection")]
    public static partial void ReusingRegisteredConnection(ILogger logger);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Pattern delete '{Pattern}' on {Primaries} primaries: {Matched} keys matched, {Deleted} deleted in {ElapsedMs:F1} ms")]
    public static partial void PatternDeleted(ILogger logger, string pattern, int primaries, long matched, long deleted, double elapsedMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Tag '{Tag}' invalidated: {Deleted} entries deleted")]
    public static partial void TagInvalidated(ILogger logger, string tag, long deleted);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Namespace '{Namespace}' invalidated: version bumped")]
    public static partial void NamespaceInvalidated(ILogger logger, string @namespace);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "{Count} keys invalidated, {Deleted} existed")]
    public static partial void KeysInvalidated(ILogger logger, int count, long deleted);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Cache read of '{Key}' failed; the handler answers instead")]
    public static partial void StoreReadFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Storing '{Key}' failed; the response is served uncached")]
    public static partial void StoreWriteFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error, Message = "Invalidation after a write to '{Key}' failed; cached entries may be stale until they expire")]
    public static partial void InvalidationFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Key '{Key}' cannot be cached ({Reason}); the handler answers uncached")]
    public static partial void KeyNotCacheable(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "More than {Capacity} invalidations failed while the store was down; every application entry will be flushed when it is back")]
    public static partial void InvalidationBacklogOverflowed(ILogger logger, int capacity);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "The store is back: flushed {Flushed} entries, as too many invalidations were missed")]
    public static partial void BacklogFlushed(ILogger logger, long flushed);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "The store is back: replayed {Replayed} invalidations missed during the outage")]
    public static partial void BacklogReplayed(ILogger logger, int replayed);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Replaying missed invalidations failed; {Pending} still pending, retrying")]
    public static partial void BacklogReplayFailed(ILogger logger, int pending, Exception exception);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "Connection to {Endpoint} restored: the local cache level was cleared, as invalidation messages may have been missed")]
    public static partial void LocalCacheCleared(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Reloading cache key {Key} failed; its stale value, expired {Seconds} s ago, was served instead (stale-if-error)")]
    public static partial void ServedStaleOnError(ILogger logger, string key, long seconds, Exception? exception);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Reloading cache key {Key} took longer than the soft timeout; its stale value, expired {Seconds} s ago, was served and the reload goes on")]
    public static partial void ServedStaleOnTimeout(ILogger logger, string key, long seconds);

    [LoggerMessage(EventId = 18, Level = LogLevel.Warning, Message = "A reload of cache key {Key} that went on past its soft timeout failed; nothing was stored")]
    public static partial void ReloadAfterTimeoutFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 19, Level = LogLevel.Information, Message = "Every cache entry was deleted: {Leases} leases and {Entries} entries on {Servers} primaries in {Milliseconds} ms")]
    public static partial void AllDeleted(ILogger logger, int servers, long leases, long entries, double milliseconds);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Every cache entry was invalidated ({Deleted} keys deleted)")]
    public static partial void AllInvalidated(ILogger logger, long deleted);
    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "HybridCache resolves to {Implementation}, registered before AddAttributeCaching: its entries are not removed by [Cache] writes nor by ICache invalidations")]
    public static partial void ForeignHybridCache(ILogger logger, string implementation);

    [LoggerMessage(EventId = 22, Level = LogLevel.Error, Message = "The cache administration request {Path} failed")]
    public static partial void AdminRequestFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "The value cached under {Key} cannot be read as {Type}; it is treated as missing")]
    public static partial void HybridDeserializationFailed(ILogger logger, string key, string type, Exception exception);
}
