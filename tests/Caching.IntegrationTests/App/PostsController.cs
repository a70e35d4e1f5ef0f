using Microsoft.AspNetCore.Mvc;

namespace Caching.IntegrationTests.App;

[ApiController]
[Route("api/posts")]
public sealed class PostsController(BlogStore db) : ControllerBase
{
    [HttpGet("{id}")]
    [Cache("api_post", ResourceIdName = "id", Expiration = 600)]
    public ActionResult<Post> Get(int id)
    {
        db.Count("ApiGetPost");
        return db.Posts.TryGetValue(id, out Post? post) ? post : NotFound();
    }

    [HttpGet("raw/{id}")]
    public ActionResult<Post> GetRaw(int id) => db.Posts.TryGetValue(id, out Post? post) ? post : NotFound();

    // A string result is text/plain through MVC's formatters: the same on a hit as on a miss.
    [HttpGet("{id}/title")]
    [Cache("api_title", ResourceIdName = "id")]
    public string Title(int id)
    {
        db.Count("ApiTitle");
        return db.Posts[id].Title;
    }

    [HttpGet("raw/{id}/title")]
    public string TitleRaw(int id) => db.Posts[id].Title;

    // A header the action sets, and a content type [Produces] chooses.
    [HttpGet("{id}/tagged")]
    [Cache("api_tagged", ResourceIdName = "id")]
    [Produces("application/xml+json")]
    public ActionResult<Post> Tagged(int id)
    {
        db.Count("ApiTagged");
        Response.Headers.ETag = "\"p" + id + "\"";
        return db.Posts[id];
    }

    [HttpGet("raw/{id}/tagged")]
    [Produces("application/xml+json")]
    public ActionResult<Post> TaggedRaw(int id)
    {
        Response.Headers.ETag = "\"p" + id + "\"";
        return db.Posts[id];
    }

    // A write refused by authorization must not invalidate.
    [HttpPut("{id}/refused")]
    [Cache("api_post", ResourceIdName = "id")]
    public IActionResult Refused(int id) => StatusCode(403);

    [HttpPut("{id}")]
    [Cache("api_post", ResourceIdName = "id", ToInvalidateExtra = ["api_user_posts:{update.CategoryId}"])]
    public IActionResult Put(int id, PostUpdate update)
    {
        db.Count("ApiPutPost");
        if (!db.Posts.TryGetValue(id, out Post? post))
        {
            return NotFound();
        }

        db.Posts[id] = post with { Title = update.Title, CategoryId = update.CategoryId };
        return Ok(db.Posts[id]);
    }
}
