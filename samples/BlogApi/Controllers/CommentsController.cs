using BlogApi.Data;
using Caching;
using Microsoft.AspNetCore.Mvc;

namespace BlogApi.Controllers;

/// <summary>
/// A controller, to show [Cache] on actions: the generated filter is attached with no extra line.
/// Not in the Native AOT build (MVC is not supported under Native AOT; see BlogApi.csproj).
/// </summary>
[ApiController]
[Route("api/posts/{postId:int}/comments")]
public sealed class CommentsController(BlogDb db, TimeProvider time) : ControllerBase
{
    [HttpGet]
    [Cache("post_comments", ResourceIdName = "postId", Expiration = 600)]
    public async Task<ActionResult<CommentDto[]>> List(int postId, CancellationToken ct)
    {
        if (!await db.PostExistsAsync(postId, ct))
        {
            return NotFound();
        }

        return await db.CommentsOnPostAsync(postId, ct);
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

        if (!await db.PostExistsAsync(postId, ct) || !await db.UserExistsAsync(comment.AuthorId, ct))
        {
            return NotFound();
        }

        CommentDto created = await db.AddCommentAsync(postId, comment.AuthorId, comment.Text, time.GetUtcNow().UtcDateTime, ct);
        return CreatedAtAction(nameof(List), new { postId }, created);
    }
}
