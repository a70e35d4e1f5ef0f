using System.Collections.Concurrent;
using Caching;
using Caching.Keys;

// BlogApi: the sample. Runs on the embedded store with no server; add --Caching:Redis=127.0.0.1:6379 to use Redis.
// This first version caches through ICache; the [Cache] attribute takes over once the generator lands.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddAttributeCaching();
builder.Services.AddSingleton<BlogData>();

var app = builder.Build();

app.MapGet("/posts/{id:int}", async (int id, BlogData db, ICache cache, HttpContext http) =>
{
    bool loaded = false;
    Post? post = await cache.GetOrCreateAsync(
        CacheKey.Create("post", id),
        _ =>
        {
            loaded = true;
            return ValueTask.FromResult(db.Find(id));
        },
        new CacheEntryOptions { Expiration = TimeSpan.FromMinutes(30), KeyPrefix = "post" });
    http.Response.Headers["X-Cache"] = loaded ? "MISS" : "HIT";
    return post is null ? Results.NotFound() : Results.Ok(post);
});

app.MapPut("/posts/{id:int}", async (int id, PostUpdate update, BlogData db, ICache cache) =>
{
    Post? post = db.Update(id, update);
    if (post is null)
    {
        return Results.NotFound();
    }

    // Delete-on-write: the post itself, and every page of its author's post list.
    await cache.InvalidateKeysAsync([CacheKey.Create("post", id)]);
    await cache.InvalidatePatternAsync(CachePattern.Format($"user_{post.AuthorId}_posts:*"));
    return Results.Ok(post);
});

app.Run();

public sealed record Post(int Id, int AuthorId, string Title, string Body);

public sealed record PostUpdate(string Title, string Body);

/// <summary>A small in-memory table of posts, seeded at start.</summary>
public sealed class BlogData
{
    private readonly ConcurrentDictionary<int, Post> _posts = new(
        Enumerable.Range(1, 200).Select(i => KeyValuePair.Create(i, new Post(i, (i % 20) + 1, $"Post {i}", $"Body of post {i}"))));

    public Post? Find(int id) => _posts.GetValueOrDefault(id);

    public Post? Update(int id, PostUpdate update)
    {
        while (_posts.TryGetValue(id, out Post? current))
        {
            Post updated = current with { Title = update.Title, Body = update.Body };
            if (_posts.TryUpdate(id, updated, current))
            {
                return updated;
            }
        }

        return null;
    }
}
