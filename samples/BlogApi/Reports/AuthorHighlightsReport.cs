using BlogApi.Data;
using Caching.Keys;
using Microsoft.Extensions.Caching.Hybrid;

namespace BlogApi.Reports;

/// <summary>An author's latest posts, computed for a dashboard.</summary>
public sealed record AuthorHighlights(int AuthorId, PostSummary[] Latest, DateTime ComputedAt);

/// <summary>
/// A service that caches through <see cref="HybridCache"/>, not through <c>[Cache]</c>. Its key,
/// <c>user_{authorId}_posts:highlights</c>, falls under the pattern <c>user_{AuthorId}_posts:*</c> that
/// <c>PUT /posts/{id}</c> invalidates: editing a post removes the author's highlights, on every instance,
/// as it removes the author's cached post lists. HybridCache and <c>[Cache]</c> share keys and invalidations.
/// </summary>
public sealed class AuthorHighlightsReport(HybridCache cache, BlogDb db, TimeProvider time)
{
    private static readonly HybridCacheEntryOptions Entry = new() { Expiration = TimeSpan.FromMinutes(10) };

    /// <summary>The author's highlights: from the cache, or computed once (concurrent callers share one computation).</summary>
    public ValueTask<AuthorHighlights> GetAsync(int authorId, CancellationToken ct)
        => cache.GetOrCreateAsync(
            CacheKey.Format($"user_{authorId}_posts:highlights"),
            (Report: this, AuthorId: authorId),
            static (state, token) => state.Report.ComputeAsync(state.AuthorId, token),
            Entry,
            cancellationToken: ct);

    private async ValueTask<AuthorHighlights> ComputeAsync(int authorId, CancellationToken ct)
        => new(authorId, await db.LatestPostsByAuthorAsync(authorId, 3, ct), time.GetUtcNow().UtcDateTime);
}
