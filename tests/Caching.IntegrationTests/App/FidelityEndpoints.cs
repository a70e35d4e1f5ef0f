using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.IntegrationTests.App;

[JsonDerivedType(typeof(Circle))]
public class Shape
{
    public string Name { get; set; } = "";
}

public sealed class Circle : Shape
{
    public double Radius { get; set; }
}

/// <summary>
/// Endpoints whose responses carry more than a value (headers, cookies, other statuses, other content types),
/// each cached one (/f/...) with an uncached twin (/u/...): what the cache sends is compared with the twin.
/// </summary>
public static class FidelityEndpoints
{
    private static readonly JsonSerializerOptions SnakeCase = ReadOnly(new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() });

    // Read-only up front: concurrent first uses of fresh options race inside System.Text.Json.
    private static JsonSerializerOptions ReadOnly(JsonSerializerOptions options)
    {
        options.MakeReadOnly();
        return options;
    }

    public static void Map(WebApplication app)
    {
        // Slow, then 404 or an exception: concurrent followers must not be handed "nothing" as a hit.
        app.MapGet("/f/missing/{id}", [Cache("f_missing")] async (int id, BlogStore db) => { db.Count("Missing"); await Task.Delay(300); return Results.NotFound(); });
        app.MapGet("/f/throws/{id}", [Cache("f_throws")] async Task<Post> (int id, BlogStore db) => { db.Count("Throws"); await Task.Delay(300); throw new InvalidOperationException("boom"); });

        // Headers of the handler's own.
        app.MapGet("/f/headers/{id}", [Cache("f_headers")] (int id, HttpResponse http, BlogStore db) => Headers(id, http, db));
        app.MapGet("/u/headers/{id}", (int id, HttpResponse http, BlogStore db) => Headers(id, http, db));

        // Responses that must never be shared.
        app.MapGet("/f/cookie/{id}", [Cache("f_cookie")] (int id, HttpResponse http, BlogStore db) => Cookie(id, http, db));
        app.MapGet("/f/nostore/{id}", [Cache("f_nostore")] (int id, HttpResponse http, BlogStore db) => CacheControl(id, http, db, "no-store", "NoStore"));
        app.MapGet("/f/private/{id}", [Cache("f_private")] (int id, HttpResponse http, BlogStore db) => CacheControl(id, http, db, "private, max-age=60", "Private"));
        // The same, added at the last moment (as the session and cookie-authentication middleware do, in OnStarting).
        app.MapGet("/f/latecookie/{id}", [Cache("f_latecookie")] (int id, HttpResponse http, BlogStore db) => Late(id, http, db, "LateCookie", h => h.SetCookie = "session=late-" + id));
        app.MapGet("/f/latenostore/{id}", [Cache("f_latenostore")] (int id, HttpResponse http, BlogStore db) => Late(id, http, db, "LateNoStore", h => h.CacheControl = "no-store"));
        app.MapGet("/f/latevary/{id}", [Cache("f_latevary")] (int id, HttpResponse http, BlogStore db) => Late(id, http, db, "LateVary", h => h.Vary = "Accept-Language"));
        app.MapGet("/f/lateheader/{id}", [Cache("f_lateheader")] (int id, HttpResponse http, BlogStore db) => Late(id, http, db, "LateHeader", h => h["X-Request-Id"] = Guid.NewGuid().ToString("N")));

        // Other serializers, content types and runtime types.
        app.MapGet("/f/json/{id}", [Cache("f_json")] (int id) => TypedResults.Json(new Profile("Ann " + id, "bio"), SnakeCase, contentType: "application/vnd.demo+json"));
        app.MapGet("/u/json/{id}", (int id) => TypedResults.Json(new Profile("Ann " + id, "bio"), SnakeCase, contentType: "application/vnd.demo+json"));
        app.MapGet("/f/derived/{id}", [Cache("f_derived")] Shape (int id) => new Circle { Name = "c" + id, Radius = 1.5 });
        app.MapGet("/u/derived/{id}", Shape (int id) => new Circle { Name = "c" + id, Radius = 1.5 });
        app.MapGet("/f/stream/{n}", [Cache("f_stream", ResourceIdName = "n")] (int n) => Numbers(n));
        app.MapGet("/u/stream/{n}", (int n) => Numbers(n));
        app.MapGet("/f/created/{id}", [Cache("f_created")] (int id) => Results.Text("<p>" + id + "</p>", "text/html; charset=utf-8", statusCode: 200));
        app.MapGet("/u/created/{id}", (int id) => Results.Text("<p>" + id + "</p>", "text/html; charset=utf-8", statusCode: 200));

        // An app filter that answers some requests itself (status 400 set by hand) and stamps every response.
        app.MapGet("/f/filtered/{id}", [Cache("f_filtered")] (int id, BlogStore db) => { db.Count("Filtered"); return db.Posts[id]; }).AddEndpointFilter(StampOrRefuse);
        app.MapGet("/u/filtered/{id}", (int id, BlogStore db) => db.Posts[id]).AddEndpointFilter(StampOrRefuse);

        // GET and HEAD on one cached endpoint: a HEAD response (no body) is never a GET's entry.
        app.MapMethods("/f/headget/{id}", ["GET", "HEAD"], [Cache("f_headget")] (int id) => Results.Bytes(Enumerable.Repeat((byte)'x', 100 + id).ToArray(), "application/octet-stream"));

        // A body larger than MaximumBodySize in the tests that lower it.
        app.MapGet("/f/big/{id}", [Cache("f_big")] (int id, BlogStore db) => { db.Count("Big"); return new string('b', 5000 + id); });

        // A read and the writes that invalidate it (or must not).
        app.MapGet("/f/post/{id}", [Cache("f_post", ResourceIdName = "id")] (int id, BlogStore db) => { db.Count("FPost"); return db.Posts[id]; });
        app.MapPut("/f/forbid/{id}", [Cache("f_post", ResourceIdName = "id")] (int id) => Results.Forbid());
        app.MapPut("/f/challenge/{id}", [Cache("f_post", ResourceIdName = "id")] (int id) => Results.Challenge());
        app.MapPut("/f/problem/{id}", [Cache("f_post", ResourceIdName = "id")] (int id) => Results.Problem("down", statusCode: 503));
        app.MapPut("/f/status/{id}", [Cache("f_post", ResourceIdName = "id")] (int id, HttpResponse http) => { http.StatusCode = 409; return "conflict"; });
        app.MapPut("/f/throwing/{id}", [Cache("f_post", ResourceIdName = "id")] string (int id) => throw new InvalidOperationException("no"));
        app.MapPut("/f/redirect/{id}", [Cache("f_post", ResourceIdName = "id")] (int id) => Results.Redirect("/f/post/" + id));
        app.MapPut("/f/ok/{id}", [Cache("f_post", ResourceIdName = "id")] (int id) => Results.NoContent());
    }

    private static async ValueTask<object?> StampOrRefuse(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        http.Response.Headers["X-Request-Id"] = http.Request.Headers["X-Req"].ToString();
        switch (http.Request.Headers["X-Mode"].ToString())
        {
            case "empty400":
                http.Response.StatusCode = 400;
                return Results.Empty;
            case "body400":
                http.Response.StatusCode = 400;
                return new Profile("error", "bad");
            default:
                return await next(context);
        }
    }

    private static Post Headers(int id, HttpResponse http, BlogStore db)
    {
        db.Count("Headers");
        http.Headers.ETag = "\"v" + id + "\"";
        http.Headers.ContentLanguage = "de-CH";
        http.Headers["X-Custom"] = new Microsoft.Extensions.Primitives.StringValues(["a", "b"]);
        http.Headers.CacheControl = "public, max-age=60";
        return db.Posts[id];
    }

    private static Post Cookie(int id, HttpResponse http, BlogStore db)
    {
        db.Count("Cookie");
        http.Cookies.Append("session", "secret-" + id);
        return db.Posts[id];
    }

    private static Post Late(int id, HttpResponse http, BlogStore db, string counter, Action<IHeaderDictionary> atStart)
    {
        db.Count(counter);
        http.OnStarting(() =>
        {
            atStart(http.Headers);
            return Task.CompletedTask;
        });
        return db.Posts[id];
    }

    private static Post CacheControl(int id, HttpResponse http, BlogStore db, string value, string counter)
    {
        db.Count(counter);
        http.Headers.CacheControl = value;
        return db.Posts[id];
    }

    private static async IAsyncEnumerable<int> Numbers(int n)
    {
        for (int i = 0; i < n; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }
}
