namespace Caching.Stores;

/// <summary>
/// Implemented by stores that know, without a round trip, whether their nodes can be reached (the Redis stores):
/// the health check reads it. A store whose calls fail at once while a node is down
/// (<see cref="CacheStoreUnavailableException"/>) never opens the engine's breaker, so this is how an outage shows.
/// </summary>
public interface IStoreAvailability
{
    /// <summary>Whether no node can be reached: every call fails at once.</summary>
    bool IsUnavailable { get; }

    /// <summary>Whether every node is reachable (false during a partial outage: one cluster primary down).</summary>
    bool IsFullyAvailable { get; }
}
