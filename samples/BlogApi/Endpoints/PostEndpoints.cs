using BlogApi.Data;
using Caching;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BlogApi.Endpoints;

/// <summary>Posts: TTL, delete-on-write, extra keys, patterns over paginated lists and search results.</summary>
public static class PostEndpoints
{
    public const int PageSize = 10;

    public const int AuthorPageSize = 3;

    public static void MapPosts(this WebApplication app)
    {
        RouteGroupBuilder posts = app.MapGroup("/posts").WithTags("Posts");

        // TTL chosen by data: a post lives 30 minutes in the cache, under post:{id}. While the database is down, a post
        // read before is still shown for a day (stale-if-error); an edit that succeeds removes the old copy at once.
        posts.MapGet("/{id:int}", [Cache("post", Expiration = 1800, StaleIfError = 86400)]
            async Task<Results<Ok<PostDto>, NotFound>> (int id, BlogDb db, CancellationToken ct) =>
                await db.FindPostAsync(id, ct) is { } post
                    ? TypedResults.Ok(post)
                    : TypedResults.NotFound());

        // The global recent-posts list: one key, recent_posts:global.
        posts.MapGet("/recent", [Cache("recent_posts", ResourceId = "global", Expiration = 300)]
            async (BlogDb db, CancellationToken ct) => await RecentAsync(db, ct));

        // Uncached: the most viewed posts (the warmer caches each of them at start-up).
        posts.MapGet("/popular", async (BlogDb db, CancellationToken ct, int take = 20) =>
            await db.PopularPostIdsAsync(Math.Clamp(take, 1, 100), ct));

        // Search results, one key per query and page: search_posts_{q}:{page}. Any post write invalidates them all.
        app.MapGet("/search", [Cache("search_posts_{q}", ResourceIdName = "page", Expiration = 300)]
            async Task<Results<Ok<PostSummary[]>, BadRequest<string>>> (string q, int page, BlogDb db, CancellationToken ct) =>
            {
                if (string.IsNullOrWhiteSpace(q) || page < 1)
                {
                    return TypedResults.BadRequest("q must not be empty and page starts at 1");
                }

                PostSummary[] found = await db.SearchPostsAsync(q, (page - 1) * PageSize, PageSize, ct);
                return TypedResults.Ok(found);
            }).WithTags("Posts");

        // Delete-on-write + extra keys + patterns. AuthorId and CategoryId in the body must match the stored post
        // (409 otherwise), so the keys invalidated are always the right ones.
        posts.MapPut("/{id:int}", [Cache("post",
            ToInvalidateExtra = ["user_posts:{update.AuthorId}", "category_posts:{update.CategoryId}", "recent_posts:global"],
            PatternToInvalidateExtra = ["user_{update.AuthorId}_posts:*", "search_posts_*"])]
            async Task<Results<Ok<PostDto>, NotFound, Conflict<string>, ValidationProblem>> (int id, PostUpdate update, BlogDb db, CancellationToken ct) =>
            {
                if (string.IsNullOrWhiteSpace(update.Title))
                {
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["title"] = ["A title is required."] });
                }

                PostDto? post = await db.FindPostAsync(id, ct);
                if (post is null)
                {
                    return TypedResults.NotFound();
                }

                if (post.AuthorId != update.AuthorId || post.CategoryId != update.CategoryId)
                {
                    return TypedResults.Conflict("authorId and categoryId must be the post's; move a post with POST /posts/{id}/move");
                }

                await db.UpdatePostAsync(id, update.Title, update.Body, ct);
                return TypedResults.Ok(post with { Title = update.Title, Body = update.Body });
            });

        // Moving a post changes two category lists (both keys are named) and its author's lists, which show the category.
        posts.MapPost("/{id:int}/move", [Cache("post",
            ToInvalidateExtra = ["category_posts:{move.From}", "category_posts:{move.To}", "user_posts:{move.AuthorId}", "recent_posts:global"],
            PatternToInvalidateExtra = ["user_{move.AuthorId}_posts:*", "search_posts_*"])]
            async Task<Results<Ok<PostDto>, NotFound, Conflict<string>>> (int id, PostMove move, BlogDb db, CancellationToken ct) =>
            {
                PostDto? post = await db.FindPostAsync(id, ct);
                if (post is null || !await db.CategoryExistsAsync(move.To, ct))
                {
                    return TypedResults.NotFound();
                }

                if (post.CategoryId != move.From || post.AuthorId != move.AuthorId)
                {
                    return TypedResults.Conflict("authorId and from must be the post's");
                }

                await db.MovePostAsync(id, move.To, ct);
                return TypedResults.Ok(post with { CategoryId = move.To });
            });

        // An author's latest posts: user_posts:{userId}.
        app.MapGet("/users/{userId:int}/posts", [Cache("user_posts", ResourceIdName = "userId", Expiration = 600)]
            async (int userId, BlogDb db, CancellationToken ct) =>
                await db.LatestPostsByAuthorAsync(userId, PageSize, ct))
            .WithTags("Posts");

        // An author's posts page by page: user_{userId}_posts:{page}, invalidated together by a pattern.
        app.MapGet("/users/{userId:int}/posts/pages/{page:int}", [Cache("user_{userId}_posts", ResourceIdName = "page", Expiration = 600)]
            async (int userId, int page, BlogDb db, CancellationToken ct) =>
                await db.PostsByAuthorAsync(userId, Math.Max(page - 1, 0) * AuthorPageSize, AuthorPageSize, ct))
            .WithTags("Posts");

        // A category's latest posts: category_posts:{categoryId}, also filed under the tag category:{categoryId}.
        app.MapGet("/categories/{categoryId:int}/posts", [Cache("category_posts", ResourceIdName = "categoryId", Expiration = 600, Tags = ["category:{categoryId}"])]
            async (int categoryId, BlogDb db, CancellationToken ct) =>
                await CategoryPostsAsync(db, categoryId, ct))
            .WithTags("Categories");
    }

    // Shared with the warmer, so warmed entries hold exactly what the endpoints return.
    public static Task<PostSummary[]> RecentAsync(BlogDb db, CancellationToken ct) => db.RecentPostsAsync(20, ct);

    public static Task<PostSummary[]> CategoryPostsAsync(BlogDb db, int categoryId, CancellationToken ct) => db.LatestPostsInCategoryAsync(categoryId, 20, ct);
}
