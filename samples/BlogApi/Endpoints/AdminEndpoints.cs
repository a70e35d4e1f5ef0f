using BlogApi.Data;
using BlogApi.Warming;
using Caching;
using Caching.Keys;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BlogApi.Endpoints;

/// <summary>Bulk import: invalidate everything it touched, then warm the hot lists again (the guide's invalidate-and-warm).</summary>
public static class AdminEndpoints
{
    public sealed record ImportResult(int Imported, long Invalidated, int Warmed);

    public static void MapAdmin(this WebApplication app)
    {
        app.MapPost("/admin/import", async Task<Results<Ok<ImportResult>, ValidationProblem>> (NewPost[] posts, BlogDb db, ICache cache, CacheWarmer warmer, TimeProvider time, CancellationToken ct) =>
        {
            if (posts.Length == 0 || posts.Length > 1000 || posts.Any(p => string.IsNullOrWhiteSpace(p.Title)))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["posts"] = ["Send 1 to 1000 posts, each with a title."] });
            }

            HashSet<int> categories = [.. await db.CategoryIdsAsync(ct)];
            HashSet<int> users = [.. await db.UserIdsAsync(ct)];
            if (posts.Any(p => !categories.Contains(p.CategoryId) || !users.Contains(p.AuthorId)))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["posts"] = ["Every authorId and categoryId must exist."] });
            }

            DateTime now = time.GetUtcNow().UtcDateTime;
            await db.AddPostsAsync(posts, now, ct);

            // Invalidate: every list the new posts appear in.
            long invalidated = await cache.InvalidateKeysAsync(["recent_posts:global", "live_stats:global"], ct);
            foreach (int authorId in posts.Select(p => p.AuthorId).Distinct())
            {
                invalidated += await cache.InvalidateKeysAsync([CacheKey.Create("user_posts", authorId)], ct);
                invalidated += await cache.InvalidatePatternAsync(CachePattern.Format($"user_{authorId}_posts:*"), ct);

                // The author's profile counts their posts.
                await cache.InvalidateNamespaceAsync(CacheKey.Format($"user:{authorId}"), ct);
            }

            int[] touched = posts.Select(p => p.CategoryId).Distinct().ToArray();
            foreach (int categoryId in touched)
            {
                invalidated += await cache.InvalidateTagAsync(CacheKey.Format($"category:{categoryId}"), ct);
            }

            invalidated += await cache.InvalidatePatternAsync("search_posts_*", ct);

            // ...and warm the hot ones again, so the next readers do not all miss at once.
            int warmed = await warmer.WarmAfterImportAsync(touched, ct);
            return TypedResults.Ok(new ImportResult(posts.Length, invalidated, warmed));
        }).WithTags("Admin");
    }
}
