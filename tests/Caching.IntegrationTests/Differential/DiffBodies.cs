using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Caching.IntegrationTests.Differential;

/// <summary>
/// The handler bodies of the corpus, shared by the cached lambda (side "c") and its uncached twins (sides "u", "v"):
/// each counts its run, then does exactly what a user's handler would.
/// </summary>
public static class DiffBodies
{
    // Made read-only (with its resolver) up front: ASP.NET Core does it on first use, and ten first uses at once
    // race inside System.Text.Json (seen as a 500 of the uncached twin), which is not what is under test.
    private static readonly JsonSerializerOptions Pascal = ReadOnly(new() { PropertyNamingPolicy = null, WriteIndented = true, TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() });

    private static JsonSerializerOptions ReadOnly(JsonSerializerOptions options)
    {
        options.MakeReadOnly();
        return options;
    }

    // ---- result types ----
    public static DItem? Rec(DiffDb db, string s, int id)
    {
        db.Ran(s, "rec");
        return db.Find(id);
    }

    public static Animal Derived(DiffDb db, string s, int id)
    {
        db.Ran(s, "derived");
        return new Dog { Id = id, Name = db.Get(id).Name, Breed = "beagle" };
    }

    public static string Str(DiffDb db, string s, int id)
    {
        db.Ran(s, "str");
        return $"item {db.Get(id).Name}";
    }

    public static int Int(DiffDb db, string s, int id)
    {
        db.Ran(s, "int");
        return (db.Get(id).Name.Length * 1000) + id;
    }

    public static DItem? Null(DiffDb db, string s, int id)
    {
        db.Ran(s, "null");
        return null;
    }

    public static async Task<DItem> TaskOf(DiffDb db, string s, int id)
    {
        db.Ran(s, "task");
        await Task.Yield();
        return db.Get(id);
    }

    public static async ValueTask<DItem> ValueTaskOf(DiffDb db, string s, int id)
    {
        db.Ran(s, "vtask");
        await Task.Yield();
        return db.Get(id);
    }

    public static async IAsyncEnumerable<DItem> Many(DiffDb db, string s, int id)
    {
        db.Ran(s, "asyncenum");
        for (int i = id; i < id + 3; i++)
        {
            await Task.Yield();
            yield return db.Get(i);
        }
    }

    public static Ok<DItem> Ok(DiffDb db, string s, int id)
    {
        db.Ran(s, "ok");
        return TypedResults.Ok(db.Get(id));
    }

    public static Results<Ok<DItem>, NotFound> OkOrNotFound(DiffDb db, string s, int id)
    {
        db.Ran(s, "okornotfound");
        return db.Find(id) is { } item ? TypedResults.Ok(item) : TypedResults.NotFound();
    }

    public static JsonHttpResult<DItem> Json(DiffDb db, string s, int id)
    {
        db.Ran(s, "json");
        return TypedResults.Json(db.Get(id), Pascal, contentType: "application/vnd.x+json");
    }

    public static Results<Ok<DItem>, ContentHttpResult> Text(DiffDb db, string s, int id)
    {
        db.Ran(s, "text");
        DItem item = db.Get(id);
        return id % 2 == 1 ? TypedResults.Text($"id,name\n{item.Id},{item.Name}\n", "text/csv") : TypedResults.Ok(item);
    }

    public static Results<Ok<DItem>, ContentHttpResult> Content(DiffDb db, string s, int id)
    {
        db.Ran(s, "content");
        return TypedResults.Content($"<p>{db.Get(id).Name}</p>", "text/html", Encoding.UTF8);
    }

    public static Results<Ok<DItem>, FileContentHttpResult> Bytes(DiffDb db, string s, int id)
    {
        db.Ran(s, "bytes");
        return TypedResults.Bytes(Encoding.UTF8.GetBytes($"\u0001bytes of {db.Get(id).Name}\u00ff"), "application/octet-stream");
    }

    public static Results<Ok<DItem>, FileStreamHttpResult> File(DiffDb db, string s, int id)
    {
        db.Ran(s, "file");
        return TypedResults.File(new MemoryStream(Encoding.UTF8.GetBytes($"file of {db.Get(id).Name}\n")), "text/plain", "item.txt");
    }

    public static Results<Ok<DItem>, RedirectHttpResult> Redirect(DiffDb db, string s, int id)
    {
        db.Ran(s, "redirect");
        return id % 2 == 1 ? TypedResults.Redirect($"/items/{id}") : TypedResults.Ok(db.Get(id));
    }

    public static Results<Ok<DItem>, NoContent> NoContent(DiffDb db, string s, int id)
    {
        db.Ran(s, "nocontent");
        return id % 2 == 1 ? TypedResults.NoContent() : TypedResults.Ok(db.Get(id));
    }

    public static Results<Ok<DItem>, ProblemHttpResult> Problem(DiffDb db, string s, int id)
    {
        db.Ran(s, "problem");
        return id % 2 == 1 ? TypedResults.Problem("the item is unavailable", statusCode: 503) : TypedResults.Ok(db.Get(id));
    }

    public static Results<Ok<DItem>, NotFound<ErrorInfo>> NotFoundBody(DiffDb db, string s, int id)
    {
        db.Ran(s, "notfound");
        return id % 2 == 1 ? TypedResults.NotFound(new ErrorInfo($"no item {id}")) : TypedResults.Ok(db.Get(id));
    }

    public static Results<Ok<DItem>, Created<DItem>> Created(DiffDb db, string s, int id)
    {
        db.Ran(s, "created");
        return id % 2 == 1 ? TypedResults.Created($"/items/{id}", db.Get(id)) : TypedResults.Ok(db.Get(id));
    }

    public static DItem Status202(DiffDb db, string s, int id, HttpResponse response)
    {
        db.Ran(s, "status202");
        response.StatusCode = StatusCodes.Status202Accepted;
        return db.Get(id);
    }

    // ---- binding sources (each value is in the key) ----
    public static DValue<T> Value<T>(DiffDb db, string s, string shape, int id, T value)
    {
        db.Ran(s, shape);
        return new DValue<T>(id, value);
    }

    // ---- response headers and cookies set by the handler ----
    public static DItem Header(DiffDb db, string s, string shape, int id, HttpResponse response)
    {
        db.Ran(s, shape);
        DItem item = db.Get(id);
        switch (shape)
        {
            case "etag": response.Headers.ETag = $"\"{item.Name}\""; break;
            case "ccpublic": response.Headers.CacheControl = "public, max-age=60"; break;
            case "ccnostore": response.Headers.CacheControl = "no-store"; break;
            case "ccprivate": response.Headers.CacheControl = "private, max-age=60"; break;
            case "lang": response.Headers.ContentLanguage = "fr"; break;
            case "location": response.Headers.Location = $"/items/{id}"; break;
            case "custom": response.Headers["X-Custom"] = $"v{id}-{item.Name}"; break;
            case "vary": response.Headers.Vary = "Accept-Language"; break;
            case "cookie": response.Cookies.Append("session", Guid.NewGuid().ToString("N")); break;
            default: throw new ArgumentOutOfRangeException(nameof(shape), shape, null);
        }

        return item;
    }

    // ---- failing and slow handlers ----
    public static DItem Throws(DiffDb db, string s, int id)
    {
        db.Ran(s, "throws");
        return id % 2 == 0 ? throw new InvalidOperationException("even ids fail") : db.Get(id);
    }

    public static async Task<DItem> Slow(DiffDb db, string s, int id)
    {
        db.Ran(s, "slow");
        DItem item = db.Get(id);
        await Task.Delay(300);
        return item;
    }

    public static DItem Flaky(DiffDb db, string s, int id)
    {
        db.Ran(s, "flaky");
        return db.FirstCall(s, "flaky", id) ? throw new InvalidOperationException("the first call fails") : db.Get(id);
    }

    public static DItem DataBad(DiffDb db, string s, int id)
    {
        db.Ran(s, "databad");
        DItem item = db.Get(id);
        return item.Name.StartsWith("bad", StringComparison.Ordinal) ? throw new InvalidOperationException("bad data") : item;
    }

    public static DItem Guarded(DiffDb db, string s, string shape, int id)
    {
        db.Ran(s, shape);
        return db.Get(id);
    }

    /// <summary>An API-key filter of the app's own: 401 without "X-Api-Key: secret".</summary>
    public static async ValueTask<object?> ApiKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        => context.HttpContext.Request.Headers["X-Api-Key"] == "secret" ? await next(context) : TypedResults.Unauthorized();

    // ---- writes ----
    public static IResult Write(DiffDb db, string s, string kind, int id, NameUpdate? update)
    {
        db.Ran(s, "w_" + kind);
        var item = new DItem(id, update?.Name ?? "unnamed");
        switch (kind)
        {
            case "put":
                db.Items[id] = item;
                return Results.Ok(item);
            case "create":
                db.Items[id] = item;
                return Results.Created($"/items/{id}", item);
            case "delete":
                db.Items.TryRemove(id, out _);
                return Results.NoContent();
            case "touch":
                return Results.NoContent();
            case "forbid":
                return Results.Forbid();
            case "problem":
                return Results.Problem("the write failed", statusCode: 500);
            case "validation":
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["name is not valid"] });
            case "prg":
                // Post/Redirect/Get: the change is made, the answer is a 302 to the resource.
                db.Items[id] = item;
                return Results.Redirect($"/items/{id}");
            case "throw":
                throw new InvalidOperationException("the write failed before changing anything");
            case "throwafter":
                db.Items[id] = item;
                throw new InvalidOperationException("the write failed after changing the data");
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }
}
