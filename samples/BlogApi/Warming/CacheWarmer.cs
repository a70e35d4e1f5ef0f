using System.Diagnostics;
using BlogApi.Data;
using BlogApi.Endpoints;
using Caching;
using Caching.Keys;

namespace BlogApi.Warming;

/// <summary>
/// Loads data into the cache ahead of requests, under exactly the keys, tags and lifetimes the [Cache]
/// endpoints use, so the first request is a hit.
/// </summary>
public sealed partial class CacheWarmer(ICache cache, BlogDb db, ILogger<CacheWarmer> logger)
{
    public const int PopularPosts = 20;

    /// <summary>Reference data (categories) and the most viewed posts.</summary>
    public async Task<int> WarmAtStartupAsync(CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        int reference = await WarmCategoriesAsync(ct);
        int popular = await WarmPopularPostsAsync(ct);
        LogWarmed(logger, "start-up", reference + popular, reference, popular, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return reference + popular;
    }

    /// <summary>After a bulk change: the recent-posts list and the given categories' post lists.</summary>
    public async Task<int> WarmAfterImportAsync(IReadOnlyCollection<int> categoryIds, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        await cache.SetAsync(CacheKey.Create("recent_posts", "global"), await PostEndpoints.RecentAsync(db, ct),
            new CacheEntryOptions { Expiration = TimeSpan.FromSeconds(300), KeyPrefix = "recent_posts" }, ct);
        foreach (int categoryId in categoryIds)
        {
            PostSummary[] posts = await PostEndpoints.CategoryPostsAsync(db, categoryId, ct);
            await cache.SetAsync(CacheKey.Create("category_posts", categoryId), posts,
                new CacheEntryOptions { Expiration = TimeSpan.FromSeconds(600), Tags = [CacheKey.Format($"category:{categoryId}")], KeyPrefix = "category_posts" }, ct);
        }

        int warmed = 1 + categoryIds.Count;
        LogWarmed(logger, "import", warmed, 0, 0, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return warmed;
    }

    private async Task<int> WarmCategoriesAsync(CancellationToken ct)
    {
        CategoryDto[] categories = await CategoryEndpoints.AllAsync(db, ct);
        var day = TimeSpan.FromSeconds(86400);
        await cache.SetAsync(CacheKey.Create("categories", "all"), categories, new CacheEntryOptions { Expiration = day, Tags = ["categories"], KeyPrefix = "categories" }, ct);
        foreach (CategoryDto category in categories)
        {
            await cache.SetAsync(CacheKey.Create("category", category.Id), category,
                new CacheEntryOptions { Expiration = day, Tags = ["categories", CacheKey.Format($"category:{category.Id}")], KeyPrefix = "category" }, ct);
        }

        return categories.Length + 1;
    }

    private async Task<int> WarmPopularPostsAsync(CancellationToken ct)
    {
        PostDto[] posts = await db.PopularPostsAsync(PopularPosts, ct);
        foreach (PostDto post in posts)
        {
            await cache.SetAsync(CacheKey.Create("post", post.Id), post,
                new CacheEntryOptions { Expiration = TimeSpan.FromSeconds(1800), KeyPrefix = "post" }, ct);
        }

        return posts.Length;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cache warming ({Reason}): {Entries} entries ({Reference} reference, {Popular} popular posts) in {ElapsedMs:F0} ms")]
    private static partial void LogWarmed(ILogger logger, string reason, int entries, int reference, int popular, double elapsedMs);
}

/// <summary>
/// Creates and seeds the database, then warms the cache, before the server starts listening
/// (<see cref="IHostedLifecycleService.StartingAsync"/> runs before any hosted service starts).
/// </summary>
public sealed class StartupWarmer(BlogDb db, CacheWarmer warmer, ILogger<StartupWarmer> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await Seeder.CreateAndSeedAsync(db, logger, cancellationToken);
        await warmer.WarmAtStartupAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
