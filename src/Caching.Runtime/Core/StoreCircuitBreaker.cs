namespace Caching;

/// <summary>
/// Thrown when the cache store cannot serve a call: without calling it while a circuit breaker is open after
/// repeated failures; by the Redis stores at once when the node owning the key is down, and in place of any
/// connection or timeout failure (the cause inside). The engine's breaker does not count it: the store has decided.
/// </summary>
public sealed class CacheStoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    public CacheStoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public CacheStoreUnavailableException()
        : this("The cache store is unavailable.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="inner">The cause.</param>
    public CacheStoreUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// Stops calling a failing store: after <c>threshold</c> failures in a row the breaker opens for
/// <c>breakFor</c>, and calls fail at once; then one call at a time is let through (half-open) until one succeeds.
/// So a dead Redis costs a request microseconds, not a connect timeout.
/// </summary>
internal sealed class StoreCircuitBreaker(int threshold, TimeSpan breakFor, TimeProvider time)
{
    private int _failures;
    private long _openUntilTicks;
    private long _probeStartedTicks;

    /// <summary>Whether calls are currently refused. A breaker that never opened reads no clock (the hit path asks on every read).</summary>
    public bool IsOpen => Interlocked.Read(ref _openUntilTicks) is var until && until != 0 && time.GetUtcNow().UtcTicks < until;

    /// <summary>Failures in a row so far.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _failures);

    public void ThrowIfOpen()
    {
        if (IsOpen)
        {
            throw new CacheStoreUnavailableException("The cache store failed repeatedly; calls are suspended for a moment (circuit breaker open).");
        }

        // Half-open (failures in a row, one short of opening): one probe at a time. A probe that never reported
        // back stops counting after one break, so the breaker cannot stay shut.
        if (threshold > 1 && Volatile.Read(ref _failures) >= threshold - 1)
        {
            long now = time.GetUtcNow().UtcTicks;
            long started = Interlocked.Read(ref _probeStartedTicks);
            if ((started != 0 && now - started < breakFor.Ticks) || Interlocked.CompareExchange(ref _probeStartedTicks, now, started) != started)
            {
                throw new CacheStoreUnavailableException("The cache store is being probed after failures; calls wait for the probe's outcome.");
            }
        }
    }

    public void RecordSuccess()
    {
        Volatile.Write(ref _failures, 0);
        Interlocked.Exchange(ref _probeStartedTicks, 0);
    }

    public void RecordFailure()
    {
        Interlocked.Exchange(ref _probeStartedTicks, 0);
        if (Interlocked.Increment(ref _failures) >= threshold)
        {
            Interlocked.Exchange(ref _openUntilTicks, time.GetUtcNow().UtcTicks + breakFor.Ticks);

            // Half-open afterwards: the next failure reopens at once.
            Volatile.Write(ref _failures, threshold - 1);
        }
    }
}
