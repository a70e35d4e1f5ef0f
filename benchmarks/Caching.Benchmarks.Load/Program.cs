using Caching;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

// Load-test target: GET /nocache/posts/{id}, /cached/posts/{id} ([Cache]) and /outputcache/posts/{id}
// ([OutputCache]), PUT /cached/posts/{id} (invalidates). --Caching:Redis=… puts [Cache] on Redis;
// --OutputCacheRedis=… puts Output Caching on Redis. Posts live in an in-memory SQLite database.
// Lists for the HTTP efficiency runs (issue 13): GET /cached/lists/{id}?size=N and /outputcache/lists/{id}?size=N,
// N items of varied text (60 items: about 30 KB of JSON); --Compression=true adds ASP.NET Core's response
// compression middleware (Brotli and gzip) in front of both.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
// A shared in-memory database: kept alive by one open connection, each DbContext opens its own.
const string Database = "Data Source=loaddb;Mode=Memory;Cache=Shared";
var keepAlive = new SqliteConnection(Database);
keepAlive.Open();
builder.Services.AddDbContext<LoadDb>(o => o.UseSqlite(Database));
builder.Services.AddAttributeCaching();
if (builder.Configuration["OutputCacheRedis"] is { Length: > 0 } outputRedis)
{
    builder.Services.AddStackExchangeRedisOutputCache(o => o.Configuration = outputRedis);
}

builder.Services.AddOutputCache();
bool compression = builder.Configuration["Compression"] == "true";
if (compression)
{
    builder.Services.AddResponseCompression();
}

var app = builder.Build();
if (compression)
{
    app.UseResponseCompression();
}

app.UseOutputCache();
using (IServiceScope scope = app.Services.CreateScope())
{
    LoadDb db = scope.ServiceProvider.GetRequiredService<LoadDb>();
    db.Database.EnsureCreated();
    db.Posts.AddRange(Enumerable.Range(1, 1000).Select(i => new PostRow { Id = i, AuthorId = i % 50, Title = $"Post {i}", Body = new string('x', 500) }));
    db.SaveChanges();
}

app.MapGet("/nocache/posts/{id}", Load);
app.MapGet("/cached/posts/{id}", [Cache("post", Expiration = 1800)] async (int id, LoadDb db) => await Load(id, db));
app.MapPut("/cached/posts/{id}", [Cache("post")] async Task<Results<NoContent, NotFound>> (int id, LoadDb db) =>
{
    PostRow? row = await db.Posts.FirstOrDefaultAsync(p => p.Id == id);
    if (row is null)
    {
        return TypedResults.NotFound();
    }

    row.Title = $"Post {id} ({Environment.TickCount64})";
    await db.SaveChangesAsync();
    return TypedResults.NoContent();
});
app.MapGet("/outputcache/posts/{id}", Load).CacheOutput(p => p.Expire(TimeSpan.FromMinutes(30)));

app.MapGet("/nocache/lists/{id}", (int id, int size) => Lists.Build(id, size));
app.MapGet("/cached/lists/{id}", [Cache("list_{size}", Expiration = 1800)] (int id, int size) => Lists.Build(id, size));

// Output Caching makes no validator of its own: the handler sets one so that it can answer If-None-Match.
app.MapGet("/outputcache/lists/{id}", (int id, int size, HttpResponse response) =>
{
    response.Headers.ETag = $"\"list-{id}-{size}\"";
    return Lists.Build(id, size);
}).CacheOutput(p => p.Expire(TimeSpan.FromMinutes(30)).SetVaryByQuery("size"));
app.Run();

static async Task<Results<Ok<Post>, NotFound>> Load(int id, LoadDb db)
{
    PostRow? row = await db.Posts.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id);
    return row is null ? TypedResults.NotFound() : TypedResults.Ok(new Post(row.Id, row.AuthorId, row.Title, row.Body));
}

public sealed record Post(int Id, int AuthorId, string Title, string Body);

public sealed record ListItem(int Id, int AuthorId, string Title, string Summary, string[] Tags, DateTime CreatedAt, int Views);

// Deterministic lists of varied English-like text: they compress like real JSON, not like repeated characters.
public static class Lists
{
    private static readonly string[] Words =
    [
        "cache", "redis", "latency", "request", "response", "invalidate", "pattern", "namespace", "tag", "server",
        "client", "header", "compression", "brotli", "endpoint", "handler", "minimal", "controller", "attribute",
        "generator", "roslyn", "cluster", "primary", "replica", "failover", "timeout", "breaker", "stampede", "lease",
        "expiration", "jitter", "warm", "cold", "hit", "miss", "store", "value", "key", "user", "post", "comment",
        "category", "search", "page", "report", "slow", "fast", "memory", "network", "bytes", "json", "schema",
    ];

    public static ListItem[] Build(int id, int size)
    {
        var random = new Random(id * 7919 + size);
        var items = new ListItem[Math.Clamp(size, 1, 1000)];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = new ListItem(
                id * 1000 + i,
                random.Next(1, 300),
                Sentence(random, 4, 9),
                Sentence(random, 40, 60),
                [Words[random.Next(Words.Length)], Words[random.Next(Words.Length)]],
                new DateTime(2026, 1, 1).AddMinutes(random.Next(0, 500_000)),
                random.Next(0, 100_000));
        }

        return items;
    }

    private static string Sentence(Random random, int min, int max)
    {
        int count = random.Next(min, max);
        var words = new string[count];
        for (int i = 0; i < count; i++)
        {
            words[i] = Words[random.Next(Words.Length)];
        }

        return string.Join(' ', words);
    }
}

public sealed class PostRow
{
    public int Id { get; set; }

    public int AuthorId { get; set; }

    public string Title { get; set; } = "";

    public string Body { get; set; } = "";
}

public sealed class LoadDb(DbContextOptions<LoadDb> options) : DbContext(options)
{
    public DbSet<PostRow> Posts => Set<PostRow>();
}
