using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Caching.IntegrationTests.App;

/// <summary>Endpoints for stale-if-error and stale-while-revalidate: entries live 60 s, then 600 s stale.</summary>
public static class StaleEndpoints
{
    public static void Map(WebApplication app)
    {
        // Served by the hit path (no filters of the app's own).
        app.MapGet("/stale/{id}", [Cache("stale", Expiration = 60, StaleIfError = 600)] (int id, BlogStore db) => { db.Count("Stale"); return db.Origin(id); });
        app.MapPut("/stale/{id}", [Cache("stale")] (int id, string title, BlogStore db) => { db.Posts[id] = db.Posts[id] with { Title = title }; return Results.NoContent(); });

        // Through the caching filter, after an app filter.
        app.MapGet("/stale-filtered/{id}", [Cache("stale_filtered", Expiration = 60, StaleIfError = 600)] (int id, BlogStore db) => db.Origin(id))
            .AddEndpointFilter(async (context, next) => await next(context));

        // A handler that answers 503 when the origin is down, with a header of its own that must not survive.
        app.MapGet("/stale-503/{id}", [Cache("stale_503", Expiration = 60, StaleIfError = 600)] (int id, HttpResponse response, BlogStore db) =>
        {
            if (db.OriginDown)
            {
                response.Headers["X-Failure"] = "origin";
                return Results.Problem(statusCode: 503);
            }

            return Results.Ok(db.Posts[id]);
        });

        // Stale-if-error with a gate to hold the reload: slower than the soft timeout.
        app.MapGet("/slow/{id}", [Cache("slow", Expiration = 60, StaleIfError = 600)] async (int id, BlogStore db) =>
        {
            Post post = db.Posts[id];
            db.ReloadEntered?.TrySetResult();
            if (db.ReloadGate is { } gate)
            {
                await gate.Task;
            }

            return post;
        });

        // Stale-while-revalidate, with a gate to hold the reload.
        app.MapGet("/swr/{id}", [Cache("swr", Expiration = 60, StaleWhileRevalidate = 600)] async (int id, BlogStore db) =>
        {
            db.Count("Swr");
            Post post = db.Posts[id]; // read before the pause: a write during it makes this value old
            db.ReloadEntered?.TrySetResult();
            if (db.ReloadGate is { } gate)
            {
                await gate.Task;
            }

            return post;
        });
        app.MapPut("/swr/{id}", [Cache("swr")] (int id, string title, BlogStore db) => { db.Posts[id] = db.Posts[id] with { Title = title }; return Results.NoContent(); });

        // The same through an app filter.
        app.MapGet("/swr-filtered/{id}", [Cache("swr_filtered", Expiration = 60, StaleWhileRevalidate = 600)] async (int id, BlogStore db) =>
        {
            db.Count("SwrFiltered");
            Post post = db.Posts[id]; // read before the pause: a write during it makes this value old
            db.ReloadEntered?.TrySetResult();
            if (db.ReloadGate is { } gate)
            {
                await gate.Task;
            }

            return post;
        }).AddEndpointFilter(async (context, next) => await next(context));
    }
}
