using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Caching.IntegrationTests.App;

/// <summary>Endpoints for entity tags, conditional requests, Cache-Status and Age.</summary>
public static class ValidatorEndpoints
{
    public static void Map(WebApplication app)
    {
        // Under 1 KiB: stored plain, served by the hit path before binding.
        app.MapGet("/v/small/{id}", [Cache("v_small")] (int id, BlogStore db) => { db.Count("VSmall"); return db.Posts[id]; });
        app.MapPut("/v/small/{id}", [Cache("v_small")] (int id, string title, BlogStore db) => { db.Posts[id] = db.Posts[id] with { Title = title }; return Results.NoContent(); });

        // Over 1 KiB: stored in the envelope, with its entity tag and the time it was stored.
        app.MapGet("/v/large/{id}", [Cache("v_large")] (int id, BlogStore db) => { db.Count("VLarge"); return Enumerable.Range(0, 40).Select(i => db.Posts[((id + i) % 50) + 1]).ToArray(); });

        app.MapGet("/u/large/{id}", (int id, BlogStore db) => Enumerable.Range(0, 40).Select(i => db.Posts[((id + i) % 50) + 1]).ToArray());

        // Bytes that do not compress: stored as they are.
        app.MapGet("/v/random/{id}", [Cache("v_random")] (int id) => Results.Bytes(RandomBytes(id), "application/octet-stream"));

        // The handler's own validator.
        app.MapGet("/v/own/{id}", [Cache("v_own")] (int id, HttpResponse response, BlogStore db) => { db.Count("VOwn"); response.Headers.ETag = $"\"own-{id}\""; return db.Posts[id]; });

        // An access check in an endpoint filter: hits go through it, conditional ones too.
        app.MapGet("/v/guarded/{id}", [Cache("v_guarded")] (int id, BlogStore db) => { db.Count("VGuarded"); return db.Posts[id]; })
            .AddEndpointFilter(async (context, next) => context.HttpContext.Request.Headers["X-Api-Key"] == "k" ? await next(context) : Results.Unauthorized());

        // Small, with freshness of its own for downstream caches: kept in the envelope, so its hits carry Age.
        app.MapGet("/v/fresh/{id}", [Cache("v_fresh")] (int id, HttpResponse response, BlogStore db) => { response.Headers.CacheControl = "public, max-age=600"; return db.Posts[id]; });
        app.MapGet("/v/modified/{id}", [Cache("v_modified")] (int id, HttpResponse response, BlogStore db) => { response.Headers.LastModified = "Tue, 01 Dec 2026 10:00:00 GMT"; return db.Posts[id]; });
        app.MapGet("/v/expires/{id}", [Cache("v_expires")] (int id, HttpResponse response, BlogStore db) => { response.Headers.Expires = "Tue, 01 Dec 2099 10:00:00 GMT"; return db.Posts[id]; });

        app.MapMethods("/v/head/{id}", ["GET", "HEAD"], [Cache("v_head")] (int id, BlogStore db) => { db.Count("VHead"); return db.Posts[id]; });
    }

    private static byte[] RandomBytes(int seed)
    {
        var bytes = new byte[4096];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
