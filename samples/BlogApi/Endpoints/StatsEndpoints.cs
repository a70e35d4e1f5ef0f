using BlogApi.Data;
using Caching;
using Caching.Diagnostics;
using Microsoft.Extensions.Options;

namespace BlogApi.Endpoints;

/// <summary>Live statistics (short TTL), an expensive report (stampede protection) and the cache's own statistics.</summary>
public static class StatsEndpoints
{
    public static void MapStats(this WebApplication app)
    {
        // Live data: one minute. If the database fails after that, the last counts are better than an error for
        // five more minutes (stale-if-error: answered 200, X-Cache: STALE).
        app.MapGet("/stats/live", [Cache("live_stats", ResourceId = "global", Expiration = 60, StaleIfError = 300)]
            async (BlogDb db, TimeProvider time, CancellationToken ct) =>
            {
                (int users, int posts, int comments, long views) = await db.CountsAsync(ct);
                return new LiveStats(users, posts, comments, views, time.GetUtcNow().UtcDateTime);
            })
            .WithTags("Stats");

        // An expensive report. On a cold key, concurrent misses run it once (single flight) and the others are served
        // its result. Once it has expired, for 30 s the last report is served at once while one request (across
        // instances) runs it again (stale-while-revalidate); if the database fails, or the report is slower than
        // Caching:SoftTimeout, the last report answers for up to 10 minutes (stale-if-error).
        app.MapGet("/reports/top-authors", [Cache("top_authors", ResourceIdName = "top", Expiration = 60, StaleWhileRevalidate = 30, StaleIfError = 600)]
            async (BlogDb db, IOptions<ReportOptions> options, CancellationToken ct, int top = 10) =>
            {
                AuthorRank[] ranks = await db.TopAuthorsAsync(Math.Clamp(top, 1, 50), ct);

                // Stands in for the seconds a real report over a large table takes.
                await Task.Delay(options.Value.SimulatedCostMilliseconds, ct);
                return ranks;
            })
            .WithTags("Stats");

        // The cache's hits, misses and hit rate per key prefix, from the runtime's metrics.
        app.MapGet("/cache/stats", (CacheStatistics statistics) => statistics.Snapshot())
            .WithTags("Cache");
    }
}

/// <summary>Settings of the report endpoint (section "Reports").</summary>
public sealed class ReportOptions
{
    public int SimulatedCostMilliseconds { get; set; } = 250;
}
