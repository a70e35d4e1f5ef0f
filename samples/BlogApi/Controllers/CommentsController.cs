using BlogApi.Data;
using Caching;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace BlogApi.Controllers;

/// <summary>A controller, to show [Cache] on actions: the generated filter is attached with no extra line.</summary>
[ApiController]
[Route("api/posts/{postId:int}/comments")]
public sealed class CommentsController(BlogDb db, TimeProvider time) : ControllerBase
{
    [HttpGet]
    [Cache("post_comments", ResourceIdName = "postId", Expiration = 600)]
    public async Task<ActionResult<CommentDto[]>> List(int postId, CancellationToken ct)
    {
        if (!await db.Posts.AnyAsync(p => p.Id == postId, ct))
        {
            return NotFound();
        }

        return await db.Comments.AsNoTracking().Where(c => c.PostId == postId).OrderBy(c => c.CreatedAt).ThenBy(c => c.Id)
            .Select(c => new CommentDto(c.Id, c.PostId, c.AuthorId, c.Text, c.CreatedAt)).ToArrayAsync(ct);
    }

    // A new comment changes the post's comment list and its author's comments (in the user's namespace).
    [HttpPost]
    [Cache("post_comments", ResourceIdName = "postId", InvalidateNamespaces = ["user:{comment.AuthorId}"])]
    public async Task<ActionResult<CommentDto>> Add(int postId, NewComment comment, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(comment.Text))
        {
            return ValidationProblem(new ValidationProblemDetails(new Dictionary<string, string[]> { ["text"] = ["A comment needs text."] }));
        }

        if (!await db.Posts.AnyAsync(p => p.Id == postId, ct) || !await db.Users.AnyAsync(u => u.Id == comment.AuthorId, ct))
        {
            return NotFound();
        }

        var entity = new Comment { PostId = postId, AuthorId = comment.AuthorId, Text = comment.Text, CreatedAt = time.GetUtcNow().UtcDateTime };
        db.Comments.Add(entity);
        await db.SaveChangesAsync(ct);
        var created = new CommentDto(entity.Id, entity.PostId, entity.AuthorId, entity.Text, entity.CreatedAt);
        return CreatedAtAction(nameof(List), new { postId }, created);
    }
}
