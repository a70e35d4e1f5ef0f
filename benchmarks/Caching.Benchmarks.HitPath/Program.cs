using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Caching;
using Caching.AspNetCore;
using Caching.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// dotnet run -c Release --project benchmarks/Caching.Benchmarks.HitPath -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(HitPathBenchmarks).Assembly).Run(args);

/// <summary>
/// GET /posts/5 through the whole ASP.NET Core pipeline (TestServer, in memory), measured six ways in one run:
/// no cache (a real SQLite query through EF Core), our generated code, the same logic written by hand against
/// the runtime (with and without the hit path that answers before binding), ASP.NET Core Output Caching with its memory store, and a
/// floor (the same bytes written by a bare RequestDelegate). Every cached variant is a hit.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 15)]
public class HitPathBenchmarks
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    /// <summary>The app's services, for <see cref="HitPathDelegateBenchmarks"/>.</summary>
    public IServiceProvider Services => _app.Services;
    private SqliteConnection _database = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _database = new SqliteConnection("Data Source=:memory:");
        _database.Open();
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<BenchDb>(o => o.UseSqlite(_database));
        builder.Services.AddAttributeCaching();
        builder.Services.AddOutputCache();
        _app = builder.Build();
        _app.UseOutputCache();
        Endpoints.Map(_app);
        using (IServiceScope scope = _app.Services.CreateScope())
        {
            BenchDb db = scope.ServiceProvider.GetRequiredService<BenchDb>();
            db.Database.EnsureCreated();
            db.Posts.AddRange(Enumerable.Range(1, 100).Select(i => new PostRow { Id = i, AuthorId = i % 7, Title = $"Post {i}", Body = new string('x', 200) }));
            db.SaveChanges();
        }

        await _app.StartAsync();
        _client = _app.GetTestClient();
        foreach (string path in new[] { "/nocache/posts/5", "/generated/posts/5", "/handwritten/posts/5", "/filteronly/posts/5", "/floor/posts/5", "/outputcache/posts/5" })
        {
            (await _client.GetAsync(path)).EnsureSuccessStatusCode();
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _database.Dispose();
    }

    [Benchmark(Baseline = true, Description = "no cache (SQLite via EF Core)")]
    public Task<byte[]> NoCache() => _client.GetByteArrayAsync("/nocache/posts/5");

    [Benchmark(Description = "[Cache] generated code")]
    public Task<byte[]> Generated() => _client.GetByteArrayAsync("/generated/posts/5");

    [Benchmark(Description = "hand-written filter, same runtime")]
    public Task<byte[]> HandWritten() => _client.GetByteArrayAsync("/handwritten/posts/5");

    [Benchmark(Description = "hand-written filter without the hit path")]
    public Task<byte[]> FilterOnly() => _client.GetByteArrayAsync("/filteronly/posts/5");

    [Benchmark(Description = "floor: the same bytes written by a bare RequestDelegate")]
    public Task<byte[]> Floor() => _client.GetByteArrayAsync("/floor/posts/5");

    [Benchmark(Description = "[OutputCache] memory store")]
    public Task<byte[]> OutputCache() => _client.GetByteArrayAsync("/outputcache/posts/5");
}

public sealed record Post(int Id, int AuthorId, string Title, string Body);

public sealed class PostRow
{
    public int Id { get; set; }

    public int AuthorId { get; set; }

    public string Title { get; set; } = "";

    public string Body { get; set; } = "";
}

public sealed class BenchDb(DbContextOptions<BenchDb> options) : DbContext(options)
{
    public DbSet<PostRow> Posts => Set<PostRow>();
}

public static class Endpoints
{
    private static readonly CachedEndpointInfo HandWrittenEndpoint = new("post_hand", expirationSeconds: 1800);

    public static void Map(WebApplication app)
    {
        app.MapGet("/nocache/posts/{id}", Load);
        app.MapGet("/generated/posts/{id}", [Cache("post", Expiration = 1800)] async (int id, BenchDb db) => await Load(id, db));

        // What the generated code does, written by hand against the same runtime: the filter, plus the hit path
        // that answers hits before binding.
        RouteHandlerBuilder handWritten = app.MapGet("/handwritten/posts/{id}", Load).AddEndpointFilterFactory(HandWrittenFilter);
        handWritten.Finally(builder => EndpointHitPath.Add(builder, HandWrittenEndpoint, [new("id", RequestValueSource.Inferred)], HandWrittenRequestKey));

        // The filter alone (the hit path off): hits are answered after binding, inside the filter pipeline.
        app.MapGet("/filteronly/posts/{id}", Load).AddEndpointFilterFactory(HandWrittenFilter);

        // The floor: what any answer costs here (routing, TestServer, the client), the cached bytes written directly.
        byte[] floorBody = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Post(5, 5, "Post 5", new string('x', 200)));
        app.MapGet("/floor/posts/{id}", (RequestDelegate)(async http =>
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = CachedEndpointInfo.JsonContentType;
            http.Response.ContentLength = floorBody.Length;
            await http.Response.BodyWriter.WriteAsync(floorBody);
        }));

        app.MapGet("/outputcache/posts/{id}", Load).CacheOutput(p => p.Expire(TimeSpan.FromMinutes(30)));
    }

    private static EndpointFilterDelegate HandWrittenFilter(EndpointFilterFactoryContext factory, EndpointFilterDelegate next)
    {
        EndpointCacheRuntime cache = EndpointCacheRuntime.Resolve(factory.ApplicationServices);
        return context =>
        {
            int id = context.GetArgument<int>(0);
            var key = new KeyBuilder(21);
            key.AppendLiteral("post_hand:");
            key.AppendValue(id);
            return cache.ReadThroughAsync<Post>(context, next, HandWrittenEndpoint, key.ToStringAndClear());
        };
    }

    private static string? HandWrittenRequestKey(HttpContext http, RequestValues values)
    {
        if (!values.TryGet(http, 0, out string? text) || !int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out int id))
        {
            return null;
        }

        var key = new KeyBuilder(21);
        key.AppendLiteral("post_hand:");
        key.AppendValue(id);
        return key.ToStringAndClear();
    }

    private static async Task<Results<Ok<Post>, NotFound>> Load(int id, BenchDb db)
    {
        PostRow? row = await db.Posts.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id);
        return row is null ? TypedResults.NotFound() : TypedResults.Ok(new Post(row.Id, row.AuthorId, row.Title, row.Body));
    }
}

/// <summary>
/// The endpoint's own request delegate alone, without TestServer and HttpClient: a fresh DefaultHttpContext per
/// call (response body to Stream.Null), routed by hand. The generated hit path against the floor delegate shows
/// exactly what a hit adds (time and bytes) to writing the same bytes.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 2, warmupCount: 5, iterationCount: 20)]
public class HitPathDelegateBenchmarks
{
    private readonly HitPathBenchmarks _app = new();
    private RequestDelegate _generated = null!;
    private RequestDelegate _floor = null!;
    private RequestDelegate _handWritten = null!;
    private IServiceProvider _services = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        await _app.SetupAsync();
        _services = _app.Services;
        RouteEndpoint[] endpoints = _services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToArray();
        _generated = endpoints.Single(e => e.RoutePattern.RawText == "/generated/posts/{id}").RequestDelegate!;
        _floor = endpoints.Single(e => e.RoutePattern.RawText == "/floor/posts/{id}").RequestDelegate!;
        _handWritten = endpoints.Single(e => e.RoutePattern.RawText == "/handwritten/posts/{id}").RequestDelegate!;
    }

    [GlobalCleanup]
    public Task CleanupAsync() => _app.CleanupAsync();

    [Benchmark(Baseline = true, Description = "floor delegate: the same bytes written")]
    public Task Floor() => _floor(Request());

    [Benchmark(Description = "[Cache] hit path, generated")]
    public Task Generated() => _generated(Request());

    [Benchmark(Description = "the same hit path written by hand")]
    public Task HandWritten() => _handWritten(Request());

    private DefaultHttpContext Request()
    {
        var http = new DefaultHttpContext { RequestServices = _services };
        http.Request.Method = "GET";
        http.Request.RouteValues["id"] = "5";
        http.Response.Body = Stream.Null;
        return http;
    }
}
