using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Tests;

/// <summary>
/// The generated code for representative handlers, compared with checked-in baselines in Snapshots/.
/// Set UPDATE_SNAPSHOTS=1 to rewrite the baselines, then review the diff.
/// </summary>
public sealed class SnapshotTests
{
    private const string Usings = """
        using System.Threading.Tasks;
        using Caching;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using Microsoft.AspNetCore.Http.HttpResults;
        using Microsoft.AspNetCore.Mvc;
        using Microsoft.AspNetCore.Routing;

        """;

    [Fact]
    public Task Minimal_api_read_write_and_method_group() => Verify(Usings + """
        namespace Blog;

        public sealed record Post(int Id, string Title);
        public sealed record PostUpdate(int CategoryId, string Title);
        public sealed class BlogDb { public Task<Post?> FindAsync(int id) => Task.FromResult<Post?>(null); }

        public static class Endpoints
        {
            public static void Map(WebApplication app)
            {
                app.MapGet("/posts/{id}", [Cache("post", ResourceIdName = "id", Expiration = 1800)]
                    async (int id, BlogDb db) => await db.FindAsync(id));

                app.MapPut("/posts/{id}", [Cache("post", ResourceIdName = "id",
                    ToInvalidateExtra = ["user_posts:{userId}", "category_posts:{update.CategoryId}", "recent_posts:global"],
                    PatternToInvalidateExtra = ["user_{userId}_posts:*"])]
                    async (int id, int userId, PostUpdate update, BlogDb db) => TypedResults.Ok(await db.FindAsync(id)));

                app.MapGet("/users/{userId}/posts", [Cache("user_{userId}_posts", ResourceIdName = "page")]
                    (int userId, int page) => TypedResults.Ok(new[] { "a", "b" }));

                app.MapDelete("/posts/{id}", DeletePost);
            }

            [Cache("post")]
            private static Results<NoContent, NotFound> DeletePost(int id) => TypedResults.NoContent();
        }
        """);

    [Fact]
    public Task Minimal_api_with_the_request_delegate_generator_on() => Verify(Usings + """
        namespace Blog;

        public sealed record Post(int Id, string Title);
        public sealed record PostUpdate(int CategoryId, string Title);

        public static class Endpoints
        {
            public static void Map(WebApplication app)
            {
                app.UseAttributeCaching();
                app.MapGet("/posts/{id}", [Cache("post", ResourceIdName = "id", Expiration = 1800)]
                    (int id) => new Post(id, "t"));

                app.MapPut("/posts/{id}", [Cache("post", ResourceIdName = "id", ToInvalidateExtra = ["category_posts:{update.CategoryId}"])]
                    (int id, PostUpdate update) => TypedResults.Ok(new Post(id, update.Title)));
            }
        }
        """, requestDelegateGenerator: true);

    [Fact]
    public Task Controller_actions() => Verify(Usings + """
        namespace Blog;

        public sealed record Post(int Id, string Title);

        [ApiController]
        [Route("api/posts")]
        public sealed class PostsController : ControllerBase
        {
            [HttpGet("{id}")]
            [Cache("post", ResourceIdName = "id")]
            public ActionResult<Post> Get(int id) => new Post(id, "t");

            [HttpDelete("{id}")]
            [Cache("post", InvalidateTags = ["posts"])]
            public IActionResult Delete(int id) => NoContent();
        }
        """);

    [Fact]
    public Task Tags_namespaces_write_through_groups_and_map_methods() => Verify(Usings + """
        namespace Shop;

        public sealed record Product(int Id, string Name);

        public static class Endpoints
        {
            public static void Map(WebApplication app)
            {
                RouteGroupBuilder shop = app.MapGroup("/shops/{shopId}");
                shop.MapGet("/products/{id}", [Cache("product_{shopId}_{category}", Tags = ["products", "category:{category}"], Namespace = "shop:{shopId}")]
                    (int shopId, int id, string category) => new Product(id, category));
                shop.MapPut("/products/{id}", [Cache("product_{shopId}_{product.Name}", Tags = ["products"], Namespace = "shop:{shopId}", WriteThrough = true)]
                    (int shopId, int id, Product product) => TypedResults.Ok(product));
                app.MapMethods("/ping/{id}", ["GET", "POST"], [Cache("ping", InvalidateNamespaces = ["shop:{id}"])]
                    (int id) => "pong");
            }
        }
        """);

    [Fact]
    public void Generated_code_uses_no_reflection()
    {
        string[] banned = ["GetCustomAttribute", "MethodInfo", ".Invoke(", "GetValue(", "Activator", "Expression.", ".Compile(", "GetType(", "System.Reflection"];
        string directory = Path.Combine(Path.GetDirectoryName(ThisFile())!, "Snapshots");
        string[] baselines = Directory.GetFiles(directory, "*.verified.cs");

        Assert.Equal(4, baselines.Length);
        foreach (string baseline in baselines)
        {
            string text = File.ReadAllText(baseline);
            Assert.All(banned, api => Assert.DoesNotContain(api, text));
        }
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;

    private static Task Verify(string source, bool requestDelegateGenerator = false, [CallerMemberName] string name = "", [CallerFilePath] string testFile = "")
    {
        (CacheRun run, var diagnostics) = GeneratorHarness.Run(requestDelegateGenerator, source);

        Assert.Empty(run.Diagnostics);
        Assert.Empty(diagnostics);
        string actual = string.Join("\n// ----\n", run.GeneratedSources.Select(s => "// " + s.HintName + "\n" + GeneratorHarness.Scrub(s.SourceText.ToString())));
        string path = Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots", name + ".verified.cs");
        if (Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"No baseline {path}: run the tests once with UPDATE_SNAPSHOTS=1 and review it.");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual.ReplaceLineEndings("\n"));
        return Task.CompletedTask;
    }
}
