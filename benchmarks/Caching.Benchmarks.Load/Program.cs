using Caching;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

// Load-test target: GET /nocache/posts/{id}, /cached/posts/{id} ([Cache]) and /outputcache/posts/{id}
// ([OutputCache]), PUT /cached/posts/{id} (invalidates). --Caching:Redis=… puts [Cache] on Redis;
// --OutputCacheRedis=… puts Output Caching on Redis. Posts live in an in-memory SQLite database.
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
var app = builder.Build();
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
app.Run();

static async Task<Results<Ok<Post>, NotFound>> Load(int id, LoadDb db)
{
    PostRow? row = await db.Posts.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id);
    return row is null ? TypedResults.NotFound() : TypedResults.Ok(new Post(row.Id, row.AuthorId, row.Title, row.Body));
}

public sealed record Post(int Id, int AuthorId, string Title, string Body);

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
