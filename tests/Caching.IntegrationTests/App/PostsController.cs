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
