using System.Collections.Concurrent;

namespace Caching.AspNetCore;

/// <summary>
/// Single flight per process: of the concurrent misses on one key, one (the leader) runs the handler; the others
/// wait, up to a bound, for the bytes it stores, and run the handler themselves if none come.
/// </summary>
internal sealed class MissCoalescer(TimeSpan maxWait)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<byte[]?>> _loads = new(StringComparer.Ordinal);

    /// <summary>Returns a lease when the caller leads the load of <paramref name="key"/>; else the leader's load to wait for.</summary>
    public TaskCompletionSource<byte[]?>? TryLead(string key, out Task<byte[]?>? leader)
    {
        var mine = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource<byte[]?> current = _loads.GetOrAdd(key, mine);
        if (ReferenceEquals(current, mine))
        {
            leader = null;
            return mine;
        }

        leader = current.Task;
        return null;
    }

    /// <summary>Ends a lead: hands the stored bytes (or null when nothing was cacheable) to the waiters.</summary>
    public void Complete(string key, TaskCompletionSource<byte[]?> lease, byte[]? body)
    {
        _loads.TryRemove(new KeyValuePair<string, TaskCompletionSource<byte[]?>>(key, lease));
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
}
