using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Caching.IntegrationTests.Differential;

/// <summary>
/// The corpus, mapped three times: under /c with [Cache] on the lambda (the generator needs it written there), and
/// under /u and /v without it (the oracle, and a second oracle the harness checks itself against). The bodies are
/// shared (<see cref="DiffBodies"/>); only the attribute differs. Keep one
/// [Cache] per line (CACHE019 with the Request Delegate Generator).
/// </summary>
public static class DiffEndpoints
{
    public static void Map(WebApplication app)
    {
        // The arrival gate of the concurrency tests: before routing's endpoint, so before the cache's hit path.
        app.Use(async (context, next) =>
        {
            await context.RequestServices.GetRequiredServiceForDiff().ArriveAsync(context);
            await next(context);
        });

        MapCached(app.MapGroup("/c"));
        MapUncached(app.MapGroup("/u"), "u");
        MapUncached(app.MapGroup("/v"), "v");
    }

    private static void MapCached(RouteGroupBuilder c)
    {
        const string S = "c";
        c.MapGet("/rec/{id}", [Cache("d_rec")] (int id, DiffDb db) => DiffBodies.Rec(db, S, id));
        c.MapGet("/derived/{id}", [Cache("d_derived")] (int id, DiffDb db) => DiffBodies.Derived(db, S, id));
        c.MapGet("/str/{id}", [Cache("d_str")] (int id, DiffDb db) => DiffBodies.Str(db, S, id));
        c.MapGet("/int/{id}", [Cache("d_int")] (int id, DiffDb db) => DiffBodies.Int(db, S, id));
        c.MapGet("/null/{id}", [Cache("d_null")] (int id, DiffDb db) => DiffBodies.Null(db, S, id));
        c.MapGet("/task/{id}", [Cache("d_task")] (int id, DiffDb db) => DiffBodies.TaskOf(db, S, id));
        c.MapGet("/vtask/{id}", [Cache("d_vtask")] (int id, DiffDb db) => DiffBodies.ValueTaskOf(db, S, id));
        c.MapGet("/asyncenum/{id}", [Cache("d_asyncenum")] (int id, DiffDb db) => DiffBodies.Many(db, S, id));
        c.MapGet("/ok/{id}", [Cache("d_ok")] (int id, DiffDb db) => DiffBodies.Ok(db, S, id));
        c.MapGet("/okornotfound/{id}", [Cache("d_okornotfound")] (int id, DiffDb db) => DiffBodies.OkOrNotFound(db, S, id));
        c.MapGet("/json/{id}", [Cache("d_json")] (int id, DiffDb db) => DiffBodies.Json(db, S, id));
        c.MapGet("/text/{id}", [Cache("d_text")] (int id, DiffDb db) => DiffBodies.Text(db, S, id));
        c.MapGet("/content/{id}", [Cache("d_content")] (int id, DiffDb db) => DiffBodies.Content(db, S, id));
        c.MapGet("/bytes/{id}", [Cache("d_bytes")] (int id, DiffDb db) => DiffBodies.Bytes(db, S, id));
        c.MapGet("/file/{id}", [Cache("d_file")] (int id, DiffDb db) => DiffBodies.File(db, S, id));
        c.MapGet("/redirect/{id}", [Cache("d_redirect")] (int id, DiffDb db) => DiffBodies.Redirect(db, S, id));
        c.MapGet("/nocontent/{id}", [Cache("d_nocontent")] (int id, DiffDb db) => DiffBodies.NoContent(db, S, id));
        c.MapGet("/problem/{id}", [Cache("d_problem")] (int id, DiffDb db) => DiffBodies.Problem(db, S, id));
        c.MapGet("/notfound/{id}", [Cache("d_notfound")] (int id, DiffDb db) => DiffBodies.NotFoundBody(db, S, id));
        c.MapGet("/created/{id}", [Cache("d_created")] (int id, DiffDb db) => DiffBodies.Created(db, S, id));
        c.MapGet("/status202/{id}", [Cache("d_status202")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Status202(db, S, id, response));
        c.MapGet("/query/{id}", [Cache("d_query_{q}")] (int id, string q, DiffDb db) => DiffBodies.Value(db, S, "query", id, q));
        c.MapGet("/header/{id}", [Cache("d_header_{tenant}")] (int id, [FromHeader(Name = "X-Tenant")] string tenant, DiffDb db) => DiffBodies.Value(db, S, "header", id, tenant));
        c.MapGet("/asp/{id}", [Cache("d_asp_{query.Page}", ResourceIdName = "query.Id")] ([AsParameters] DQuery query, DiffDb db) => DiffBodies.Value(db, S, "asp", query.Id, query));
        c.MapGet("/nullable/{id}", [Cache("d_nullable_{page}")] (int id, int? page, DiffDb db) => DiffBodies.Value(db, S, "nullable", id, page));
        c.MapGet("/enum/{id}", [Cache("d_enum_{color}")] (int id, Color color, DiffDb db) => DiffBodies.Value(db, S, "enum", id, color));
        c.MapGet("/time/{id}", [Cache("d_time_{at}")] (int id, TimeOnly at, DiffDb db) => DiffBodies.Value(db, S, "time", id, at));
        c.MapGet("/date/{id}", [Cache("d_date_{day}")] (int id, DateOnly day, DiffDb db) => DiffBodies.Value(db, S, "date", id, day));
        c.MapGet("/guid/{id}", [Cache("d_guid_{token}")] (int id, Guid token, DiffDb db) => DiffBodies.Value(db, S, "guid", id, token));
        c.MapGet("/decimal/{id}", [Cache("d_decimal_{price}")] (int id, decimal price, DiffDb db) => DiffBodies.Value(db, S, "decimal", id, price));
        c.MapGet("/double/{id}", [Cache("d_double_{ratio}")] (int id, double ratio, DiffDb db) => DiffBodies.Value(db, S, "double", id, ratio));
        c.MapGet("/s/{name}", [Cache("d_sroute", ResourceIdName = "name")] (string name, DiffDb db) => DiffBodies.Value(db, S, "sroute", 0, name));
        c.MapGet("/etag/{id}", [Cache("d_etag")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "etag", id, response));
        c.MapGet("/ccpublic/{id}", [Cache("d_ccpublic")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "ccpublic", id, response));
        c.MapGet("/ccnostore/{id}", [Cache("d_ccnostore")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "ccnostore", id, response));
        c.MapGet("/ccprivate/{id}", [Cache("d_ccprivate")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "ccprivate", id, response));
        c.MapGet("/lang/{id}", [Cache("d_lang")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "lang", id, response));
        c.MapGet("/location/{id}", [Cache("d_location")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "location", id, response));
        c.MapGet("/custom/{id}", [Cache("d_custom")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "custom", id, response));
        c.MapGet("/vary/{id}", [Cache("d_vary")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "vary", id, response));
        c.MapGet("/cookie/{id}", [Cache("d_cookie")] (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "cookie", id, response));
        c.MapGet("/throws/{id}", [Cache("d_throws")] (int id, DiffDb db) => DiffBodies.Throws(db, S, id));
        c.MapGet("/slow/{id}", [Cache("d_slow")] (int id, DiffDb db) => DiffBodies.Slow(db, S, id));
        c.MapGet("/flaky/{id}", [Cache("d_flaky")] (int id, DiffDb db) => DiffBodies.Flaky(db, S, id));
        c.MapGet("/databad/{id}", [Cache("d_databad")] (int id, DiffDb db) => DiffBodies.DataBad(db, S, id));
        c.MapGet("/apikey/{id}", [Cache("d_apikey")] (int id, DiffDb db) => DiffBodies.Guarded(db, S, "apikey", id)).AddEndpointFilter(DiffBodies.ApiKey);
        c.MapGroup("/g").AddEndpointFilter(DiffBodies.ApiKey).MapGet("/item/{id}", [Cache("d_group")] (int id, DiffDb db) => DiffBodies.Guarded(db, S, "group", id));
        c.MapPut("/w/{id}", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "put", id, update));
        c.MapPost("/w/{id}", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "create", id, update));
        c.MapDelete("/w/{id}", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, DiffDb db) => DiffBodies.Write(db, S, "delete", id, null));
        c.MapPost("/w/{id}/touch", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, DiffDb db) => DiffBodies.Write(db, S, "touch", id, null));
        c.MapPut("/w/{id}/forbid", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "forbid", id, update));
        c.MapPut("/w/{id}/problem", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "problem", id, update));
        c.MapPut("/w/{id}/validation", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "validation", id, update));
        c.MapPost("/w/{id}/prg", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "prg", id, update));
        c.MapPut("/w/{id}/throw", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "throw", id, update));
        c.MapPut("/w/{id}/throwafter", [Cache("d_rec", ResourceIdName = "id", ToInvalidateExtra = ["d_ok:{id}", "d_okornotfound:{id}", "d_etag:{id}", "d_task:{id}", "d_slow:{id}", "d_databad:{id}", "d_str:{id}"])] (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "throwafter", id, update));
    }

    private static void MapUncached(RouteGroupBuilder u, string S)
    {
        u.MapGet("/rec/{id}", (int id, DiffDb db) => DiffBodies.Rec(db, S, id));
        u.MapGet("/derived/{id}", (int id, DiffDb db) => DiffBodies.Derived(db, S, id));
        u.MapGet("/str/{id}", (int id, DiffDb db) => DiffBodies.Str(db, S, id));
        u.MapGet("/int/{id}", (int id, DiffDb db) => DiffBodies.Int(db, S, id));
        u.MapGet("/null/{id}", (int id, DiffDb db) => DiffBodies.Null(db, S, id));
        u.MapGet("/task/{id}", (int id, DiffDb db) => DiffBodies.TaskOf(db, S, id));
        u.MapGet("/vtask/{id}", (int id, DiffDb db) => DiffBodies.ValueTaskOf(db, S, id));
        u.MapGet("/asyncenum/{id}", (int id, DiffDb db) => DiffBodies.Many(db, S, id));
        u.MapGet("/ok/{id}", (int id, DiffDb db) => DiffBodies.Ok(db, S, id));
        u.MapGet("/okornotfound/{id}", (int id, DiffDb db) => DiffBodies.OkOrNotFound(db, S, id));
        u.MapGet("/json/{id}", (int id, DiffDb db) => DiffBodies.Json(db, S, id));
        u.MapGet("/text/{id}", (int id, DiffDb db) => DiffBodies.Text(db, S, id));
        u.MapGet("/content/{id}", (int id, DiffDb db) => DiffBodies.Content(db, S, id));
        u.MapGet("/bytes/{id}", (int id, DiffDb db) => DiffBodies.Bytes(db, S, id));
        u.MapGet("/file/{id}", (int id, DiffDb db) => DiffBodies.File(db, S, id));
        u.MapGet("/redirect/{id}", (int id, DiffDb db) => DiffBodies.Redirect(db, S, id));
        u.MapGet("/nocontent/{id}", (int id, DiffDb db) => DiffBodies.NoContent(db, S, id));
        u.MapGet("/problem/{id}", (int id, DiffDb db) => DiffBodies.Problem(db, S, id));
        u.MapGet("/notfound/{id}", (int id, DiffDb db) => DiffBodies.NotFoundBody(db, S, id));
        u.MapGet("/created/{id}", (int id, DiffDb db) => DiffBodies.Created(db, S, id));
        u.MapGet("/status202/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Status202(db, S, id, response));
        u.MapGet("/query/{id}", (int id, string q, DiffDb db) => DiffBodies.Value(db, S, "query", id, q));
        u.MapGet("/header/{id}", (int id, [FromHeader(Name = "X-Tenant")] string tenant, DiffDb db) => DiffBodies.Value(db, S, "header", id, tenant));
        u.MapGet("/asp/{id}", ([AsParameters] DQuery query, DiffDb db) => DiffBodies.Value(db, S, "asp", query.Id, query));
        u.MapGet("/nullable/{id}", (int id, int? page, DiffDb db) => DiffBodies.Value(db, S, "nullable", id, page));
        u.MapGet("/enum/{id}", (int id, Color color, DiffDb db) => DiffBodies.Value(db, S, "enum", id, color));
        u.MapGet("/time/{id}", (int id, TimeOnly at, DiffDb db) => DiffBodies.Value(db, S, "time", id, at));
        u.MapGet("/date/{id}", (int id, DateOnly day, DiffDb db) => DiffBodies.Value(db, S, "date", id, day));
        u.MapGet("/guid/{id}", (int id, Guid token, DiffDb db) => DiffBodies.Value(db, S, "guid", id, token));
        u.MapGet("/decimal/{id}", (int id, decimal price, DiffDb db) => DiffBodies.Value(db, S, "decimal", id, price));
        u.MapGet("/double/{id}", (int id, double ratio, DiffDb db) => DiffBodies.Value(db, S, "double", id, ratio));
        u.MapGet("/s/{name}", (string name, DiffDb db) => DiffBodies.Value(db, S, "sroute", 0, name));
        u.MapGet("/etag/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "etag", id, response));
        u.MapGet("/ccpublic/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "ccpublic", id, response));
        u.MapGet("/ccnostore/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "ccnostore", id, response));
        u.MapGet("/ccprivate/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "ccprivate", id, response));
        u.MapGet("/lang/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "lang", id, response));
        u.MapGet("/location/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "location", id, response));
        u.MapGet("/custom/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "custom", id, response));
        u.MapGet("/vary/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "vary", id, response));
        u.MapGet("/cookie/{id}", (int id, HttpResponse response, DiffDb db) => DiffBodies.Header(db, S, "cookie", id, response));
        u.MapGet("/throws/{id}", (int id, DiffDb db) => DiffBodies.Throws(db, S, id));
        u.MapGet("/slow/{id}", (int id, DiffDb db) => DiffBodies.Slow(db, S, id));
        u.MapGet("/flaky/{id}", (int id, DiffDb db) => DiffBodies.Flaky(db, S, id));
        u.MapGet("/databad/{id}", (int id, DiffDb db) => DiffBodies.DataBad(db, S, id));
        u.MapGet("/apikey/{id}", (int id, DiffDb db) => DiffBodies.Guarded(db, S, "apikey", id)).AddEndpointFilter(DiffBodies.ApiKey);
        u.MapGroup("/g").AddEndpointFilter(DiffBodies.ApiKey).MapGet("/item/{id}", (int id, DiffDb db) => DiffBodies.Guarded(db, S, "group", id));
        u.MapPut("/w/{id}", (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "put", id, update));
        u.MapPost("/w/{id}", (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "create", id, update));
        u.MapDelete("/w/{id}", (int id, DiffDb db) => DiffBodies.Write(db, S, "delete", id, null));
        u.MapPost("/w/{id}/touch", (int id, DiffDb db) => DiffBodies.Write(db, S, "touch", id, null));
        u.MapPut("/w/{id}/forbid", (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "forbid", id, update));
        u.MapPut("/w/{id}/problem", (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "problem", id, update));
        u.MapPut("/w/{id}/validation", (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "validation", id, update));
        u.MapPost("/w/{id}/prg", (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "prg", id, update));
        u.MapPut("/w/{id}/throw", (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "throw", id, update));
        u.MapPut("/w/{id}/throwafter", (int id, NameUpdate update, DiffDb db) => DiffBodies.Write(db, S, "throwafter", id, update));
    }

    private static DiffDb GetRequiredServiceForDiff(this IServiceProvider services) => (DiffDb)services.GetService(typeof(DiffDb))!;
}
