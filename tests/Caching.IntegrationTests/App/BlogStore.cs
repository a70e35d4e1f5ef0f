using System.Collections.Concurrent;

namespace Caching.IntegrationTests.App;

public sealed record Post(int Id, int AuthorId, int CategoryId, string Title);

public sealed record PostUpdate(int CategoryId, string Title);

public sealed record Profile(string Name, string Bio);

public sealed record TaggedItem(int Id, int Version);

/// <summary>The "database" of the test app; counts how often handlers really ran.</summary>
public sealed class BlogStore
{
    private readonly ConcurrentDictionary<string, int> _calls = new();

    public ConcurrentDictionary<int, Post> Posts { get; } = new(Enumerable.Range(1, 50).Select(i => KeyValuePair.Create(i, new Post(i, (i % 5) + 1, (i % 3) + 1, $"Post {i}"))));

    public ConcurrentDictionary<string, Profile> Profiles { get; } = new();

    /// <summary>Holds the tagged reads' handler while closed (set by a test to pause a load mid-way).</summary>
    public TaskCompletionSource? TaggedGate { get; set; }

    /// <summary>The data the tagged reads return; a tag write bumps it.</summary>
    public int TaggedVersion;

    /// <summary>While set, the origin is down: <see cref="Origin"/> throws, the 503 endpoints answer 503.</summary>
    public volatile bool OriginDown;

    /// <summary>Holds the stale-while-revalidate reads' handler while closed.</summary>
    public TaskCompletionSource? ReloadGate { get; set; }

    /// <summary>Set when a stale-while-revalidate read's handler runs.</summary>
    public TaskCompletionSource? ReloadEntered { get; set; }

    /// <summary>A post, read from an origin that may be down.</summary>
    public Post Origin(int id) => OriginDown ? throw new InvalidOperationException("database down") : Posts[id];

    public int Calls(string handler) => _calls.GetValueOrDefault(handler);

    public void Count(string handler) => _calls.AddOrUpdate(handler, 1, (_, n) => n + 1);
}
