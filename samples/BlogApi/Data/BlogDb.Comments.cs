using Microsoft.Data.Sqlite;

namespace BlogApi.Data;

// Comments.
public sealed partial class BlogDb
{
    /// <summary>A post's comments, oldest first.</summary>
    public Task<CommentDto[]> CommentsOnPostAsync(int postId, CancellationToken ct) =>
        QueryAsync(
            """SELECT "Id", "PostId", "AuthorId", "Text", "CreatedAt" FROM "Comments" WHERE "PostId" = $postId ORDER BY "CreatedAt", "Id" """,
            ReadComment, ct, ("$postId", postId));

    /// <summary>A user's newest comments, newest first.</summary>
    public Task<CommentDto[]> LatestCommentsByAuthorAsync(int authorId, int take, CancellationToken ct) =>
        QueryAsync(
            """SELECT "Id", "PostId", "AuthorId", "Text", "CreatedAt" FROM "Comments" WHERE "AuthorId" = $authorId ORDER BY "CreatedAt" DESC LIMIT $take""",
            ReadComment, ct, ("$authorId", authorId), ("$take", take));

    /// <summary>Adds a comment; returns it with its new id.</summary>
    public async Task<CommentDto> AddCommentAsync(int postId, int authorId, string text, DateTime createdAt, CancellationToken ct)
    {
        long id = await ScalarAsync(
            """INSERT INTO "Comments" ("PostId", "AuthorId", "Text", "CreatedAt") VALUES ($postId, $authorId, $text, $createdAt) RETURNING "Id" """,
            ct, ("$postId", postId), ("$authorId", authorId), ("$text", text), ("$createdAt", createdAt));
        return new CommentDto((int)id, postId, authorId, text, createdAt);
    }

    private static CommentDto ReadComment(SqliteDataReader r) =>
        new(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetDateTime(4));
}
