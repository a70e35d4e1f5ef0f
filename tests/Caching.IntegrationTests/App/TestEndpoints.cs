using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.IntegrationTests.App;

/// <summary>The endpoints under test: each cached one has an uncached twin under /raw for byte comparison.</summary>
public static class TestEndpoints
{
    public static void Map(WebApplication app)
    {
        // Stands in for authentication: "X-Test-User: alice" makes an authenticated user named alice.
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue("X-Test-User", out var name))
            {
                context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
                    [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, name.ToString()), new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, name.ToString())], "test"));
            }

            return next(context);
        });

        // One entry per user.
        app.MapGet("/me/notes/{id}", [Cache("my_note", VaryByUser = true)] (int id, System.Security.Claims.ClaimsPrincipal user, BlogStore db) =>
        {
            db.Count("MyNote");
            return new MyNote(id, user.Identity?.Name ?? "anonymous");
        });
        app.MapPut("/me/notes/{id}", [Cache("my_note")] (int id) => TypedResults.NoContent());

        // Tags without a namespace: answered by the hit path, whose read takes the lease the filter then files the
        // tags under.
        app.MapGet("/tagged/{id}", [Cache("tagged", Tags = ["tagged_all", "tagged:{id}"])] async (int id, BlogStore db) =>
        {
            db.Count("Tagged");
            int version = Volatile.Read(ref db.TaggedVersion);
            if (db.TaggedGate is { } gate)
            {
                await gate.Task;
            }

            return new TaggedItem(id, version);
        });
        app.MapPost("/tagged/{id}/refresh", [Cache("tagged_refresh", InvalidateTags = ["tagged_all"])] (int id, BlogStore db) =>
        {
            Interlocked.Increment(ref db.TaggedVersion);
            return TypedResults.NoContent();
        });

        // Read-through with a plain Task<T> result.
        app.MapGet("/posts/{id}", [Cache("post", ResourceIdName = "id", Expiration = 1800)]
            async (int id, BlogStore db) =>
            {
                db.Count("GetPost");
                await Task.Yield();
                return db.Posts.TryGetValue(id, out Post? post) ? post : null;
            });
        app.MapGet("/raw/posts/{id}", async (int id, BlogStore db) =>
        {
            await Task.Yield();
            return db.Posts.TryGetValue(id, out Post? post) ? post : null;
        });

        // Write: own key, extra keys (one from a body member), a pattern; nothing when the handler fails.
        app.MapPut("/posts/{id}", [Cache("post", ResourceIdName = "id",
            ToInvalidateExtra = ["user_posts:{userId}", "category_posts:{update.CategoryId}", "recent_posts:global"],
            PatternToInvalidateExtra = ["user_{userId}_posts:*"])]
            (int id, int userId, PostUpdate update, BlogStore db) =>
            {
                db.Count("PutPost");
                if (!db.Posts.TryGetValue(id, out Post? post))
                {
                    return Results.NotFound();
                }

                if (update.Title == "boom")
                {
                    throw new InvalidOperationException("handler failed");
                }

                db.Posts[id] = post with { CategoryId = update.CategoryId, Title = update.Title };
                return Results.Ok(db.Posts[id]);
            });

        // Prefix template with a string route value; Results<Ok<T>, NotFound>.
        app.MapGet("/users/{name}/posts", [Cache("user_{name}_posts", ResourceIdName = "page")]
            Results<Ok<string[]>, NotFound> (string name, int page, BlogStore db) =>
            {
                db.Count("UserPosts");
                return page < 0 ? TypedResults.NotFound() : TypedResults.Ok(new[] { $"{name} page {page}" });
            });
        app.MapGet("/raw/users/{name}/posts", Results<Ok<string[]>, NotFound> (string name, int page) =>
            page < 0 ? TypedResults.NotFound() : TypedResults.Ok(new[] { $"{name} page {page}" }));

        // Pattern invalidation driven by a hostile-able string value.
        app.MapDelete("/users/{name}/posts", [Cache("user_posts", ResourceIdName = "name",
            PatternToInvalidateExtra = ["user_{name}_posts:*"])]
            (string name, BlogStore db) =>
            {
                db.Count("DeleteUserPosts");
                return TypedResults.NoContent();
            });

        // A method group whose method carries [Cache]; ValueTask<Ok<T>>.
        app.MapGet("/profiles/{userId}", GetProfile);
        app.MapPut("/profiles/{userId}", UpdateProfile);

        // A body member in a pattern: a hostile search text stays literal.
        app.MapPost("/search/refresh", [Cache("search", ResourceIdName = "request.Query", PatternToInvalidateExtra = ["search_{request.Query}:*"])]
            (SearchRefresh request) => TypedResults.NoContent());

        // An expensive endpoint: concurrent misses must run it once.
        app.MapGet("/reports/{id}", [Cache("report")] async (int id, BlogStore db) =>
        {
            db.Count("Report");
            await Task.Delay(300);
            return new Report(id, 42);
        });

        // Keys built from arbitrary text: too long for MaxKeyLength on purpose in one test.
        app.MapGet("/echo/{text}", [Cache("echo", ResourceIdName = "text")] (string text, BlogStore db) =>
        {
            db.Count("GetEcho");
            return new Echo(text);
        });
        app.MapPut("/echo/{text}", [Cache("echo", ResourceIdName = "text")] (string text, BlogStore db) =>
        {
            db.Count("PutEcho");
            return TypedResults.NoContent();
        });

        // A string result is written as text/plain.
        app.MapGet("/greetings/{id}", [Cache("greeting")] (int id, BlogStore db) =>
        {
            db.Count("Greeting");
            return $"hello {id}";
        });
        app.MapGet("/raw/greetings/{id}", (int id) => $"hello {id}");

        // Tags and namespaces.
        app.MapGet("/products/{id}", [Cache("product_{shop}_{category}", Tags = ["products", "category:{category}"], Namespace = "shop:{shop}")]
            (int id, string category, string shop, BlogStore db) =>
            {
                db.Count("Product");
                return new ProductView(id, category, shop);
            });
        app.MapPost("/categories/{category}/refresh", [Cache("category", ResourceIdName = "category", InvalidateTags = ["category:{category}"])]
            (string category) => TypedResults.NoContent());
        app.MapPost("/shops/{shop}/refresh", [Cache("shop", ResourceIdName = "shop", InvalidateNamespaces = ["shop:{shop}"])]
            (string shop) => TypedResults.NoContent());

        // MapMethods with GET and HEAD.
        app.MapMethods("/headlines/{id}", ["GET", "HEAD"], [Cache("headline")] (int id, BlogStore db) =>
        {
            db.Count("Headline");
            return new Headline(id, "headline");
        });

        // The hit path: hits are answered before binding, so a scoped service the handler takes is not created.
        app.MapGet("/probed/{id}", [Cache("probed")] (int id, ScopedProbe probe, BlogStore db) =>
        {
            db.Count("Probed");
            return new Report(id, 1);
        });

        // Filters of the app's own, on the endpoint and on its group: they run on every request, hits included
        // (the endpoint filter is an API-key check), in both modes.
        Microsoft.AspNetCore.Routing.RouteGroupBuilder guardedGroup = app.MapGroup("/guarded").AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.RequestServices.GetRequiredService<BlogStore>().Count("GroupFilter");
            return await next(context);
        });
        guardedGroup.MapGet("/{id}", [Cache("guarded")] (int id, ScopedProbe probe, BlogStore db) =>
        {
            db.Count("Guarded");
            return new Report(id, 2);
        }).AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.RequestServices.GetRequiredService<BlogStore>().Count("EndpointFilter");
            if (context.HttpContext.Request.Headers["X-Api-Key"] != "secret")
            {
                return Results.Unauthorized();
            }

            return await next(context);
        });

        // The hit path over other key types, and a route value from the prefix of nested groups.
        app.MapGroup("/shops/{shopId}").MapGroup("/v2").MapGet("/items/{id}", [Cache("shop_item_{shopId}_{featured}_{token}")]
            (int shopId, long id, bool featured, Guid token, ScopedProbe probe, BlogStore db) =>
            {
                db.Count("ShopItem");
                return new Report((int)id, shopId);
            });

        // Write-through: the PUT's result becomes the cached value.
        app.MapGet("/notes/{id}", [Cache("note")] (int id, BlogStore db) =>
        {
            db.Count("GetNote");
            return new Note(id, "original");
        });
        app.MapPut("/notes/{id}", [Cache("note", WriteThrough = true)] (int id, Note note) => TypedResults.Ok(note with { Id = id }));
    }

    [Cache("profile", Expiration = 3600)]
    private static async ValueTask<Ok<Profile>> GetProfile(string userId, BlogStore db)
    {
        db.Count("GetProfile");
        await Task.Yield();
        return TypedResults.Ok(db.Profiles.GetValueOrDefault(userId) ?? new Profile(userId, "no bio"));
    }

    [Cache("profile")]
    private static IResult UpdateProfile(string userId, Profile profile, BlogStore db)
    {
        db.Profiles[userId] = profile;
        return Results.NoContent();
    }
}

public sealed record Note(int Id, string Text);

/// <summary>A scoped service that counts how often a request creates it.</summary>
public sealed class ScopedProbe
{
    public ScopedProbe(BlogStore db) => db.Count("ProbeCreated");
}

// Named result types (not anonymous ones), so that the Request Delegate Generator can generate these endpoints too.
public sealed record MyNote(int Id, string Owner);

public sealed record Report(int Id, int Total);

public sealed record Echo(string Text);

public sealed record ProductView(int Id, string Category, string Shop);

public sealed record Headline(int Id, string Text);

public sealed record SearchRefresh(string Query);
