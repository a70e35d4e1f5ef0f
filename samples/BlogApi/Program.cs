using System.Collections.Concurrent;
using Caching;
using Microsoft.AspNetCore.Http.HttpResults;

// BlogApi: the sample. Runs on the embedded store with no server; add --Caching:Redis=127.0.0.1:6379 to use Redis.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddAttributeCaching(o => o.AddCacheStatusHeader = true);
builder.Services.AddSingleton<BlogData>();

var app = builder.Build();

// Read-through: posts live 30 minutes in the cache under post:{id}.
app.MapGet("/posts/{id:int}", [Cache("post", ResourceIdName = "id", Expiration = 1800)]
    Results<Ok<Post>, NotFound> (int id, BlogData db) => db.Find(id) is { } post ? TypedResults.Ok(post) : TypedResults.NotFound());

// A paginated list per author: keys user_{userId}_posts:{page}.
app.MapGet("/users/{userId:int}/posts", [Cache("user_{userId}_posts", ResourceIdName = "page", Expiration = 600)]
    (int userId, int page, BlogData db) => db.ByAuthor(userId, page));

// Delete-on-write: the post, and every page of its author's list (a pattern).
app.MapPut("/posts/{id:int}", [Cache("post", ResourceIdName = "id", PatternToInvalidateExtra = ["user_{userId}_posts:*"])]
    Results<Ok<Post>, NotFound> (int id, int userId, PostUpdate update, BlogData db) =>
        db.Update(id, userId, update) is { } post ? TypedResults.Ok(post) : TypedResults.NotFound());

app.Run();

public sealed record Post(int Id, int AuthorId, string Title, string Body);

public sealed record PostUpdate(string Title, string Body);

/// <summary>A small in-memory table of posts, seeded at start.</summary>
public sealed class BlogData
{
    private readonly ConcurrentDictionary<int, Post> _posts = new(
        Enumerable.Range(1, 200).Select(i => KeyValuePair.Create(i, new Post(i, (i % 20) + 1, $"Post {i}", $"Body of post {i}"))));

    public Post? Find(int id) => _posts.GetValueOrDefault(id);

    public Post[] ByAuthor(int authorId, int page) => _posts.Values
        .Where(p => p.AuthorId == authorId)
        .OrderBy(p => p.Id)
        .Skip(Math.Max(page - 1, 0) * 5)
        .Take(5)
        .ToArray();

    public Post? Update(int id, int authorId, PostUpdate update)
    {
        while (_posts.TryGetValue(id, out Post? current))
        {
            if (current.AuthorId != authorId)
            {
                return null;
            }

            Post updated = current with { Title = update.Title, Body = update.Body };
            if (_posts.TryUpdate(id, updated, current))
            {
                return updated;
            }
        }

        return null;
    }
}
