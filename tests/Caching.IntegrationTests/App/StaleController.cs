using Microsoft.AspNetCore.Mvc;

namespace Caching.IntegrationTests.App;

/// <summary>Stale-if-error on controller actions: entries live 60 s, then 600 s for errors.</summary>
[ApiController]
[Route("api/stale")]
public sealed class StaleController(BlogStore db) : ControllerBase
{
    // Throws when the origin is down, after setting a header of its own that must not survive.
    [HttpGet("{id}")]
    [Cache("api_stale", ResourceIdName = "id", Expiration = 60, StaleIfError = 600)]
    public ActionResult<Post> Get(int id)
    {
        db.Count("ApiStale");
        Response.Headers["X-Failure"] = "origin";
        Post post = db.Origin(id);
        Response.Headers.Remove("X-Failure");
        return post;
    }

    // Answers 503 when the origin is down.
    [HttpGet("503/{id}")]
    [Cache("api_stale_503", ResourceIdName = "id", Expiration = 60, StaleIfError = 600)]
    public ActionResult<Post> Get503(int id)
    {
        if (db.OriginDown)
        {
            Response.Headers["X-Failure"] = "origin";
            return Problem(statusCode: 503);
        }

        return db.Posts[id];
    }

    // Held by the store's gate: slower than the soft timeout.
    [HttpGet("slow/{id}")]
    [Cache("api_slow", ResourceIdName = "id", Expiration = 60, StaleIfError = 600)]
    public async Task<ActionResult<Post>> Slow(int id)
    {
        Post post = db.Posts[id];
        db.ReloadEntered?.TrySetResult();
        if (db.ReloadGate is { } gate)
        {
            await gate.Task;
        }

        return post;
    }

    // Without a window: the failure goes through.
    [HttpGet("none/{id}")]
    [Cache("api_stale_none", ResourceIdName = "id", Expiration = 60)]
    public ActionResult<Post> GetWithoutWindow(int id) => db.Origin(id);

    [HttpPut("{id}")]
    [Cache("api_stale", ResourceIdName = "id")]
    public IActionResult Put(int id, string title)
    {
        db.Posts[id] = db.Posts[id] with { Title = title };
        return NoContent();
    }
}
