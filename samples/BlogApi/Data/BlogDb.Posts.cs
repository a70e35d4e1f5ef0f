using Microsoft.Data.Sqlite;

namespace BlogApi.Data;

// Posts.
public sealed partial class BlogDb
{
    public Task<PostDto?> FindPostAsync(int id, CancellationToken ct) =>
        QueryFirstAsync(
            """SELECT "Id", "AuthorId", "CategoryId", "Title", "Body", "Views", "CreatedAt" FROM "Posts" WHERE "Id" = $id LIMIT 1""",
            ReadPost, ct, ("$id", id));

    public async Task<bool> PostExistsAsync(int id, CancellationToken ct) =>
        await ScalarAsync("""SELECT EXISTS (SELECT 1 FROM "Posts" WHERE "Id" = $id)""", ct, ("$id", id)) == 1;

    /// <summary>The most viewed posts, most viewed first.</summary>
    public Task<PostDto[]> PopularPostsAsync(int take, CancellationToken ct) =>
        QueryAsync(
            """SELECT "Id", "AuthorId", "CategoryId", "Title", "Body", "Views", "CreatedAt" FROM "Posts" ORDER BY "Views" DESC, "Id" LIMIT $take""",
            ReadPost, ct, ("$take", take));

    public Task<int[]> PopularPostIdsAsync(int take, CancellationToken ct) =>
        QueryAsync("""SELECT "Id" FROM "Posts" ORDER BY "Views" DESC, "Id" LIMIT $take""", r => r.GetInt32(0), ct, ("$take", take));

    /// <summary>The newest posts, newest first.</summary>
    public Task<PostSummary[]> RecentPostsAsync(int take, CancellationToken ct) =>
        QueryAsync(
            """SELECT "Id", "AuthorId", "CategoryId", "Title", "CreatedAt" FROM "Posts" ORDER BY "CreatedAt" DESC, "Id" DESC LIMIT $take""",
            ReadSummary, ct, ("$take", take));

    /// <summary>Posts whose title contains <paramref name="text"/> (case-sensitive, no wildcards), by id.</summary>
    public Task<PostSummary[]> SearchPostsAsync(string text, int skip, int take, CancellationToken ct) =>
        QueryAsync(
            """SELECT "Id", "AuthorId", "CategoryId", "Title", "CreatedAt" FROM "Posts" WHERE instr("Title", $text) > 0 ORDER BY "Id" LIMIT $take OFFSET $skip""",
            ReadSummary, ct, ("$text", text), ("$take", take), ("$skip", skip));

    /// <summary>An author's newest posts, newest first.</summary>
    public Task<PostSummary[]> LatestPostsByAuthorAsync(int authorId, int take, CancellationToken ct) =>
        QueryAsync(
            """SELECT "Id", "AuthorId", "CategoryId", "Title", "CreatedAt" FROM "Posts" WHERE "AuthorId" = $authorId ORDER BY "CreatedAt" DESC LIMIT $take""",
            ReadSummary, ct, ("$authorId", authorId), ("$take", take));

    /// <summary>An author's posts by id, a page at a time.</summary>
    public Task<PostSummary[]> PostsByAuthorAsync(int authorId, int skip, int take, CancellationToken ct) =>
        QueryAsync(
            """SELECT "Id", "AuthorId", "CategoryId", "Title", "CreatedAt" FROM "Posts" WHERE "AuthorId" = $authorId ORDER BY "Id" LIMIT $take OFFSET $skip""",
            ReadSummary, ct, ("$authorId", authorId), ("$take", take), ("$skip", skip));

    /// <summary>A category's newest posts, newest first.</summary>
    public Task<PostSummary[]> LatestPostsInCategoryAsync(int categoryId, int take, CancellationToken ct) =>
        QueryAsync(
            """SELECT "Id", "AuthorId", "CategoryId", "Title", "CreatedAt" FROM "Posts" WHERE "CategoryId" = $categoryId ORDER BY "CreatedAt" DESC LIMIT $take""",
            ReadSummary, ct, ("$categoryId", categoryId), ("$take", take));

    public Task<int> UpdatePostAsync(int id, string title, string body, CancellationToken ct) =>
        ExecuteAsync("""UPDATE "Posts" SET "Title" = $title, "Body" = $body WHERE "Id" = $id""", ct, ("$title", title), ("$body", body), ("$id", id));

    public Task<int> MovePostAsync(int id, int categoryId, CancellationToken ct) =>
        ExecuteAsync("""UPDATE "Posts" SET "CategoryId" = $categoryId WHERE "Id" = $id""", ct, ("$categoryId", categoryId), ("$id", id));

    /// <summary>Adds the posts in order, in one transaction, with no views yet.</summary>
    public async Task AddPostsAsync(IReadOnlyList<NewPost> posts, DateTime createdAt, CancellationToken ct)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteTransaction transaction = connection.BeginTransaction();
        foreach (NewPost post in posts)
        {
            await using SqliteCommand insert = Command(connection,
                """INSERT INTO "Posts" ("AuthorId", "CategoryId", "Title", "Body", "Views", "CreatedAt") VALUES ($authorId, $categoryId, $title, $body, 0, $createdAt)""",
                ("$authorId", post.AuthorId), ("$categoryId", post.CategoryId), ("$title", post.Title), ("$body", post.Body), ("$createdAt", createdAt));
            insert.Transaction = transaction;
            await insert.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    private static PostDto ReadPost(SqliteDataReader r) =>
        new(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetString(4), r.GetInt32(5), r.GetDateTime(6));

    private static PostSummary ReadSummary(SqliteDataReader r) =>
        new(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetDateTime(4));
}
