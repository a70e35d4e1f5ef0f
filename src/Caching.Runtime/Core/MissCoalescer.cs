using System.Collections.Concurrent;
using Caching.Keys;

namespace Caching;

/// <summary>
/// Single flight per process: of the concurrent misses on one key, one (the leader) runs the handler; the others
/// wait, up to a bound, for the bytes it stores, and run the handler themselves if none come.
/// </summary>
/// <remarks>
/// <para>A follower takes only bytes the leader really stored, and never joins a load that an invalidation in this
/// process may concern: <see cref="CacheEngine"/> tells this coalescer of each invalidation once the store has
/// carried it out (keys, pattern, tag, namespace, or everything), and the loads it may concern are forgotten, so
/// a request that comes after a write leads a load of its own. Loads of other keys keep their followers: steady
/// writes elsewhere do not turn coalesced misses into one handler run per request.</para>
/// <para>Forgetting comes after the store's delete, not before: a load that read the old value before the delete
/// could otherwise still be joined by a request that arrived after the write returned.</para>
/// </remarks>
internal sealed class MissCoalescer(TimeSpan maxWait)
{
    private readonly ConcurrentDictionary<string, Load> _loads = new(StringComparer.Ordinal);

    /// <summary>How many loads are in flight (for tests and diagnostics).</summary>
    public int InFlight => _loads.Count;

    /// <summary>
    /// What a leader hands its followers when its read found a value (or another instance's) instead of loading one:
    /// each follower reads for itself. A value this process did not store may be older than a write another
    /// instance finished after the leader's read went out, and a follower that joined after that write returned
    /// must not get it.
    /// </summary>
    public static readonly byte[] ReadYourself = [];

    /// <summary>
    /// Returns a lease when the caller leads the load of <paramref name="flight"/>. Otherwise returns null, with
    /// the leader's load to wait for.
    /// </summary>
    /// <param name="flight">The flight's identity: the key, qualified by its namespace when it has one.</param>
    /// <param name="key">The key in the store.</param>
    /// <param name="entry">The entry's namespace and tags: which invalidations concern this load.</param>
    /// <param name="leader">The leader's load, when the caller follows.</param>
    public TaskCompletionSource<byte[]?>? TryLead(string flight, string key, CacheEntryOptions entry, out Task<byte[]?>? leader)
    {
        var mine = new Load(new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously), key, entry.Namespace, entry.Tags);
        Load current = _loads.GetOrAdd(flight, mine);
        if (ReferenceEquals(current, mine))
        {
            leader = null;
            return mine.Completion;
        }

        leader = current.Completion.Task;
        return null;
    }

    /// <summary>Ends a lead: hands the stored bytes (or null when nothing was stored) to the waiters.</summary>
    public void Complete(string flight, TaskCompletionSource<byte[]?> lease, byte[]? body)
    {
        if (_loads.TryGetValue(flight, out Load? load) && ReferenceEquals(load.Completion, lease))
        {
            _loads.TryRemove(new KeyValuePair<string, Load>(flight, load));
        }

        lease.TrySetResult(body);
    }

    /// <summary>
    /// Files a load under the namespace and tags it turned out to have (a load the hit path began before the
    /// request was bound), so that the invalidations that concern them forget it.
    /// </summary>
    public void Refile(string flight, TaskCompletionSource<byte[]?> lead, string key, CacheEntryOptions entry)
    {
        if (_loads.TryGetValue(flight, out Load? load) && ReferenceEquals(load.Completion, lead))
        {
            _loads.TryUpdate(flight, new Load(lead, key, entry.Namespace, entry.Tags), load);
        }
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

    /// <summary>Forgets the loads of <paramref name="keys"/>, per-user copies included (filed under <see cref="CacheEngine.VariantTag"/>).</summary>
    public void ForgetKeys(IReadOnlyCollection<string> keys) => Forget(keys, static (load, keys) => keys.Contains(load.Key) || load.HasVariantTagOf(keys));

    /// <summary>Forgets the loads of keys that <paramref name="pattern"/> matches, as the store's pattern delete does.</summary>
    public void ForgetPattern(string pattern) => Forget(pattern, static (load, pattern) => RedisGlob.IsMatch(pattern, load.Key)
        || (!pattern.EndsWith('*') && RedisGlob.IsMatch(pattern + "|user:*", load.Key)));

    /// <summary>Forgets the loads of entries filed under <paramref name="tag"/>.</summary>
    public void ForgetTag(string tag) => Forget(tag, static (load, tag) => load.Tags?.Contains(tag, StringComparer.Ordinal) == true);

    /// <summary>Forgets the loads of entries of <paramref name="namespaceName"/>.</summary>
    public void ForgetNamespace(string namespaceName) => Forget(namespaceName, static (load, space) => string.Equals(load.Namespace, space, StringComparison.Ordinal));

    /// <summary>Forgets every load in flight (a flush, or an invalidation that could not be carried out).</summary>
    public void ForgetAll() => Forget(0, static (_, _) => true);

    // Removing a load lets the next request lead a new one; the old leader's followers still get what it stores,
    // which the store's lease check already refuses when the invalidation came in between.
    private void Forget<TState>(TState state, Func<Load, TState, bool> concerns)
    {
        foreach (KeyValuePair<string, Load> pair in _loads)
        {
            if (concerns(pair.Value, state))
            {
                _loads.TryRemove(pair);
            }
        }
    }

    private sealed record Load(TaskCompletionSource<byte[]?> Completion, string Key, string? Namespace, IReadOnlyList<string>? Tags)
    {
        public bool HasVariantTagOf(IReadOnlyCollection<string> keys)
        {
            if (Tags is null)
            {
                return false;
            }

            foreach (string key in keys)
            {
                if (Tags.Contains(CacheEngine.VariantTag(key), StringComparer.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
