namespace Caching;

/// <summary>
/// Runs a caller's factory for a <see cref="ReadThrough.PendingLoad"/> and stores what it returns, with the
/// read-through's resilience rules: soft timeout (past it the stale value answers while the factory goes on and
/// stores when done) and stale-if-error (a failing factory is answered with the stale value, which stays). Shared by
/// <see cref="DefaultCache"/> and <see cref="Hybrid.EngineHybridCache"/> so that both behave exactly alike.
/// </summary>
internal static class LoadRunner
{
    /// <summary>
    /// Runs <paramref name="factory"/> for <paramref name="load"/>, stores its non-null result through the load's lease
    /// (serialized by <paramref name="serialize"/>), and ends the load (or hands it to the factory still running past a
    /// soft timeout). Returns the factory's value, or the stale bytes that answer instead.
    /// </summary>
    /// <typeparam name="TState">The factory's state.</typeparam>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="load">The load <see cref="ReadThrough.BeginAsync"/> handed out; ended here.</param>
    /// <param name="state">Passed to <paramref name="factory"/>.</param>
    /// <param name="factory">Loads the value.</param>
    /// <param name="serialize">Turns the value into the bytes to store.</param>
    /// <param name="cancellationToken">The caller's token, passed to the factory.</param>
    /// <returns>The loaded value, or the stale bytes served in its place.</returns>
    public static async ValueTask<LoadOutcome<T>> RunAsync<TState, T>(
        ReadThrough.PendingLoad load,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        Func<T, byte[]> serialize,
        CancellationToken cancellationToken)
    {
        bool goesOn = false;
        load.Activate(); // the factory's own spans become the miss's children
        try
        {
            T value;
            try
            {
                ValueTask<T> loading = factory(state, cancellationToken);
                if (!loading.IsCompleted && load.SoftTimeout is { } softTimeout)
                {
                    // Soft timeout: past it, the stale value answers and the factory goes on, storing when it completes.
                    Task<T> running = loading.AsTask();
                    using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    Task first = await Task.WhenAny(running, Task.Delay(softTimeout, load.Time, timer.Token)).ConfigureAwait(false);
                    await timer.CancelAsync().ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                    if (first != running && await load.StaleToServeAsync(cancellationToken).ConfigureAwait(false) is { } stale)
                    {
                        goesOn = true;
                        load.ReportStaleServedOnTimeout();
                        load.ReleaseFollowers();
                        _ = StoreWhenDoneAsync(running, load, serialize);
                        return new LoadOutcome<T>(default, stale);
                    }

                    loading = new ValueTask<T>(running);
                }

                value = await loading.ConfigureAwait(false);
            }
            catch (Exception ex) when (ReadThrough.IsOriginFailure(ex, cancellationToken) && load.StaleIfError is not null)
            {
                // Stale-if-error: the factory failed within the entry's window; the stale copy the store still holds
                // (an invalidation meanwhile removed it: the failure goes through) answers, and stays.
                if (await load.StaleToServeAsync(cancellationToken).ConfigureAwait(false) is not { } stale)
                {
                    throw;
                }

                load.ReportStaleServed(ex);
                return new LoadOutcome<T>(default, stale);
            }

            if (value is not null && load.CanStore)
            {
                await load.StoreAsync(serialize(value), cancellationToken).ConfigureAwait(false);
            }

            return new LoadOutcome<T>(value, null);
        }
        finally
        {
            if (!goesOn)
            {
                await load.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // A factory that went on past its soft timeout: its value is stored through the load's lease when it comes
    // (refused if an invalidation came in between), then the load ends.
    private static async Task StoreWhenDoneAsync<T>(Task<T> running, ReadThrough.PendingLoad load, Func<T, byte[]> serialize)
    {
        try
        {
            T value = await running.ConfigureAwait(false);
            if (value is not null && load.CanStore)
            {
                await load.StoreAsync(serialize(value), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            load.ReportFailedAfterTimeout(ex);
        }
        finally
        {
            await load.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>What <see cref="LoadRunner.RunAsync"/> answers with: the loaded value, or stale bytes in its place.</summary>
/// <typeparam name="T">The value's type.</typeparam>
/// <param name="Value">The factory's value (when <paramref name="Stale"/> is null).</param>
/// <param name="Stale">The stored bytes served instead of a failed or slow load, if any.</param>
internal readonly record struct LoadOutcome<T>(T? Value, ReadOnlyMemory<byte>? Stale);
