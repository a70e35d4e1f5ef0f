using System.Collections.Concurrent;

namespace Caching;

/// <summary>
/// Single flight per process: of the concurrent misses on one key, one (the leader) runs the handler; the others
/// wait, up to a bound, for the bytes it stores, and run the handler themselves if none come.
/// </summary>
/// <remarks>
/// A follower takes the leader's bytes only if no invalidation started in this process between the leader's
/// start and the follower's arrival (<see cref="CacheEngine.InvalidationEpoch"/>), and only if the leader really
/// stored them: a request that comes after a write never gets a value loaded before it.
/// </remarks>
internal sealed class MissCoalescer(TimeSpan maxWait)
{
    private readonly ConcurrentDictionary<string, Load> _loads = new(StringComparer.Ordinal);

    /// <summary>
    /// Returns a lease when the caller leads the load of <paramref name="key"/> (also when the load in flight
    /// started before an invalidation: the caller then replaces it). Otherwise returns null, with the leader's
    /// load to wait for.
    /// </summary>
    public TaskCompletionSource<byte[]?>? TryLead(string key, long epoch, out Task<byte[]?>? leader)
    {
        var mine = new Load(new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously), epoch);
        while (true)
        {
            Load current = _loads.GetOrAdd(key, mine);
            if (ReferenceEquals(current, mine))
            {
                leader = null;
                return mine.Completion;
            }

            if (current.Epoch >= epoch)
            {
                leader = current.Completion.Task;
                return null;
            }

            // The load in flight started before an invalidation: its value may be stale and will not be handed
            // on. This request leads a new load (the invalidation removed the old one's lease, so it can store).
            if (_loads.TryUpdate(key, mine, current))
            {
                leader = null;
                return mine.Completion;
            }
        }
    }

    /// <summary>Ends a lead: hands the stored bytes (or null when nothing was stored) to the waiters.</summary>
    public void Complete(string key, TaskCompletionSource<byte[]?> lease, byte[]? body)
    {
        if (_loads.TryGetValue(key, out Load? load) && ReferenceEquals(load.Completion, lease))
        {
            _loads.TryRemove(new KeyValuePair<string, Load>(key, load));
        }

        lease.TrySetResult(body);
    }

    /// <summary>Waits for the leader's bytes; null when it had none or took longer than the bound.</summary>
    public async Task<byte[]?> FollowAsync(Task<byte[]?> leader, CancellationToken cancellationToken)
    {
        try
        {
            return await leader.WaitAsync(maxWait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private sealed record Load(TaskCompletionSource<byte[]?> Completion, long Epoch);
}
