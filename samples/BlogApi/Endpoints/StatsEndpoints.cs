using BlogApi.Data;
using Caching;
using Caching.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BlogApi.Endpoints;

/// <summary>Live statistics (short TTL), an expensive report (stampede protection) and the cache's own statistics.</summary>
public static class StatsEndpoints
{
    public static void MapStats(this WebApplication app)
    {
        // Live data: one minute.
        app.MapGet("/stats/live", [Cache("live_stats", ResourceId = "global", Expiration = 60)]
            async (BlogDb db, TimeProvider time, CancellationToken ct) => new LiveStats(
                await db.Users.CountAsync(ct),
                await db.Posts.CountAsync(ct),
                await db.Comments.CountAsync(ct),
                await db.Posts.SumAsync(p => (long)p.Views, ct),
                time.GetUtcNow().UtcDateTime))
            .WithTags("Stats");

        // An expensive report. When it expires under load, concurrent misses run it once (single flight);
        // the others are served its result.
        app.MapGet("/reports/top-authors", [Cache("top_authors", ResourceIdName = "top", Expiration = 120)]
            async (BlogDb db, IOptions<ReportOptions> options, CancellationToken ct, int top = 10) =>
            {
                var rows = await db.Users.AsNoTracking()
                    .Select(u => new
                    {
                        u.Id,
                        u.Name,
                        Posts = u.Posts.Count,
                        Views = u.Posts.Sum(p => (long)p.Views),
                        Comments = db.Comments.Count(c => c.Post!.AuthorId == u.Id),
                    })
                    .OrderByDescending(r => r.Views).ThenBy(r => r.Id)
                    .Take(Math.Clamp(top, 1, 50))
                    .ToArrayAsync(ct);
                AuthorRank[] ranks = rows.Select(r => new AuthorRank(r.Id, r.Name, r.Posts, r.Views, r.Comments)).ToArray();

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
