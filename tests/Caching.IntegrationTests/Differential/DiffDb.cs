using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Caching.IntegrationTests.Differential;

// Named types only (no anonymous ones), so that the Request Delegate Generator can generate every endpoint too.
public sealed record DItem(int Id, string Name);

/// <summary>A declared base type; the handlers of the "derived" shape return a <see cref="Dog"/> through it.</summary>
public class Animal
{
    public int Id { get; init; }

    public string Name { get; init; } = string.Empty;
}

public sealed class Dog : Animal
{
    public string Breed { get; init; } = string.Empty;
}

public enum Color
{
    Red,
    Green,
    Blue,
}

public sealed record DQuery(int Id, int Page);

public sealed record NameUpdate(string Name);

public sealed record ErrorInfo(string Message);

public sealed record DValue<T>(int Id, T Value);

/// <summary>
/// The differential app's singleton "database": items both twins read and the cached writes change, a counter per
/// (side, shape) of real handler runs, the state of the shapes that fail on their first call, and arrival gates.
/// </summary>
public sealed class DiffDb
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _firstCalls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ArrivalGate> _gates = new(StringComparer.Ordinal);

    public ConcurrentDictionary<int, DItem> Items { get; } = new(Enumerable.Range(1, 20).Select(i => KeyValuePair.Create(i, new DItem(i, $"item{i}"))));

    public DItem? Find(int id) => Items.TryGetValue(id, out DItem? item) ? item : null;

    public DItem Get(int id) => Find(id) ?? new DItem(id, "missing");

    /// <summary>Counts one real run of a handler; side is "c" (cached), "u" or "v" (the uncached twins).</summary>
    public void Ran(string side, string shape) => _calls.AddOrUpdate(side + "/" + shape, 1, (_, n) => n + 1);

    public int Calls(string side, string shape) => _calls.GetValueOrDefault(side + "/" + shape);

    /// <summary>True on the first call of (side, shape, id) only.</summary>
    public bool FirstCall(string side, string shape, int id) => _firstCalls.AddOrUpdate($"{side}/{shape}/{id}", 1, (_, n) => n + 1) == 1;

    /// <summary>
    /// Holds requests to <paramref name="pathAndQuery"/> in the app's middleware (before the endpoint and the cache's
    /// hit path) until <paramref name="count"/> of them have arrived, then lets them all go at once.
    /// </summary>
    public void Arm(string pathAndQuery, int count) => _gates[pathAndQuery] = new ArrivalGate(count);

    public void Disarm(string pathAndQuery) => _gates.TryRemove(pathAndQuery, out _);

    public async Task ArriveAsync(HttpContext http)
    {
        if (_gates.IsEmpty || !_gates.TryGetValue(http.Request.Path.ToUriComponent() + http.Request.QueryString.ToUriComponent(), out ArrivalGate? gate))
        {
            return;
        }

        if (Interlocked.Increment(ref gate.Arrived) >= gate.Expected)
        {
            gate.Open.TrySetResult();
        }

        try
        {
            // Bounded: if fewer requests come (a bug in the test), they go on rather than hang.
            await gate.Open.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
        }
    }

    private sealed class ArrivalGate(int expected)
    {
        public int Expected { get; } = expected;

        public int Arrived;

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
