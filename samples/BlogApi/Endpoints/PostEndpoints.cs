using BlogApi.Data;
using Caching;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace BlogApi.Endpoints;

/// <summary>Posts: TTL, delete-on-write, extra keys, patterns over paginated lists and search results.</summary>
public static class PostEndpoints
{
    public const int PageSize = 10;

    public const int AuthorPageSize = 3;

    public static void MapPosts(this WebApplication app)
    {
        RouteGroupBuilder posts = app.MapGroup("/posts").WithTags("Posts");

        // TTL chosen by data: a post lives 30 minutes in the cache, under post:{id}.
        posts.MapGet("/{id:int}", [Cache("post", Expiration = 1800)]
            async Task<Results<Ok<PostDto>, NotFound>> (int id, BlogDb db, CancellationToken ct) =>
                await db.Posts.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct) is { } post
                    ? TypedResults.Ok(post.ToDto())
                    : TypedResults.NotFound());

        // The global recent-posts list: one key, recent_posts:global.
        posts.MapGet("/recent", [Cache("recent_posts", ResourceId = "global", Expiration = 300)]
            async (BlogDb db, CancellationToken ct) => await RecentAsync(db, ct));

        // Uncached: the most viewed posts (the warmer caches each of them at start-up).
        posts.MapGet("/popular", async (BlogDb db, CancellationToken ct, int take = 20) =>
            await db.Posts.AsNoTracking().OrderByDescending(p => p.Views).ThenBy(p => p.Id).Take(Math.Clamp(take, 1, 100)).Select(p => p.Id).ToArrayAsync(ct));

        // Search results, one key per query and page: search_posts_{q}:{page}. Any post write invalidates them all.
        app.MapGet("/search", [Cache("search_posts_{q}", ResourceIdName = "page", Expiration = 300)]
            async Task<Results<Ok<PostSummary[]>, BadRequest<string>>> (string q, int page, BlogDb db, CancellationToken ct) =>
            {
                if (string.IsNullOrWhiteSpace(q) || page < 1)
                {
                    return TypedResults.BadRequest("q must not be empty and page starts at 1");
                }

                PostSummary[] found = await db.Posts.AsNoTracking()
                    .Where(p => p.Title.Contains(q))
                    .OrderBy(p => p.Id)
                    .Skip((page - 1) * PageSize).Take(PageSize)
                    .Select(p => new PostSummary(p.Id, p.AuthorId, p.CategoryId, p.Title, p.CreatedAt))
                    .ToArrayAsync(ct);
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

                Post? post = await db.Posts.FirstOrDefaultAsync(p => p.Id == id, ct);
                if (post is null)
                {
                    return TypedResults.NotFound();
                }

                if (post.AuthorId != update.AuthorId || post.CategoryId != update.CategoryId)
                {
                    return TypedResults.Conflict("authorId and categoryId must be the post's; move a post with POST /posts/{id}/move");
                }

                post.Title = update.Title;
                post.Body = update.Body;
                await db.SaveChangesAsync(ct);
                return TypedResults.Ok(post.ToDto());
            });

        // Moving a post changes two category lists (both keys are named) and its author's lists, which show the category.
        posts.MapPost("/{id:int}/move", [Cache("post",
            ToInvalidateExtra = ["category_posts:{move.From}", "category_posts:{move.To}", "user_posts:{move.AuthorId}", "recent_posts:global"],
            PatternToInvalidateExtra = ["user_{move.AuthorId}_posts:*", "search_posts_*"])]
            async Task<Results<Ok<PostDto>, NotFound, Conflict<string>>> (int id, PostMove move, BlogDb db, CancellationToken ct) =>
            {
                Post? post = await db.Posts.FirstOrDefaultAsync(p => p.Id == id, ct);
                if (post is null || !await db.Categories.AnyAsync(c => c.Id == move.To, ct))
                {
                    return TypedResults.NotFound();
                }

                if (post.CategoryId != move.From || post.AuthorId != move.AuthorId)
                {
                    return TypedResults.Conflict("authorId and from must be the post's");
                }

                post.CategoryId = move.To;
                await db.SaveChangesAsync(ct);
                return TypedResults.Ok(post.ToDto());
            });

        // An author's latest posts: user_posts:{userId}.
        app.MapGet("/users/{userId:int}/posts", [Cache("user_posts", ResourceIdName = "userId", Expiration = 600)]
            async (int userId, BlogDb db, CancellationToken ct) =>
                await db.Posts.AsNoTracking().Where(p => p.AuthorId == userId).OrderByDescending(p => p.CreatedAt).Take(PageSize)
                    .Select(p => new PostSummary(p.Id, p.AuthorId, p.CategoryId, p.Title, p.CreatedAt)).ToArrayAsync(ct))
            .WithTags("Posts");

        // An author's posts page by page: user_{userId}_posts:{page}, invalidated together by a pattern.
        app.MapGet("/users/{userId:int}/posts/pages/{page:int}", [Cache("user_{userId}_posts", ResourceIdName = "page", Expiration = 600)]
            async (int userId, int page, BlogDb db, CancellationToken ct) =>
                await db.Posts.AsNoTracking().Where(p => p.AuthorId == userId).OrderBy(p => p.Id).Skip(Math.Max(page - 1, 0) * AuthorPageSize).Take(AuthorPageSize)
                    .Select(p => new PostSummary(p.Id, p.AuthorId, p.CategoryId, p.Title, p.CreatedAt)).ToArrayAsync(ct))
            .WithTags("Posts");

        // A category's latest posts: category_posts:{categoryId}, also filed under the tag category:{categoryId}.
        app.MapGet("/categories/{categoryId:int}/posts", [Cache("category_posts", ResourceIdName = "categoryId", Expiration = 600, Tags = ["category:{categoryId}"])]
            async (int categoryId, BlogDb db, CancellationToken ct) =>
                await db.Posts.AsNoTracking().Where(p => p.CategoryId == categoryId).OrderByDescending(p => p.CreatedAt).Take(20)
                    .Select(p => new PostSummary(p.Id, p.AuthorId, p.CategoryId, p.Title, p.CreatedAt)).ToArrayAsync(ct))
            .WithTags("Categories");
    }

    public static Task<PostSummary[]> RecentAsync(BlogDb db, CancellationToken ct) =>
        db.Posts.AsNoTracking().OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id).Take(20)
            .Select(p => new PostSummary(p.Id, p.AuthorId, p.CategoryId, p.Title, p.CreatedAt)).ToArrayAsync(ct);
}
