namespace BlogApi.Data;

// Statistics and reports.
public sealed partial class BlogDb
{
    /// <summary>How many users, posts and comments there are, and the posts' views in total.</summary>
    public async Task<(int Users, int Posts, int Comments, long TotalViews)> CountsAsync(CancellationToken ct)
    {
        var rows = await QueryAsync(
            """
            SELECT (SELECT COUNT(*) FROM "Users"),
                   (SELECT COUNT(*) FROM "Posts"),
                   (SELECT COUNT(*) FROM "Comments"),
                   (SELECT COALESCE(SUM("Views"), 0) FROM "Posts")
            """,
            r => (r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetInt64(3)), ct);
        return rows[0];
    }

    /// <summary>
    /// Authors ranked by the views of their posts (then by id), with their number of posts and of comments
    /// received on them. Every user is ranked, with or without posts.
    /// </summary>
    public Task<AuthorRank[]> TopAuthorsAsync(int take, CancellationToken ct) =>
        QueryAsync(
            """
            SELECT "u"."Id", "u"."Name",
                   (SELECT COUNT(*) FROM "Posts" AS "p" WHERE "p"."AuthorId" = "u"."Id") AS "Posts",
                   (SELECT COALESCE(SUM("p"."Views"), 0) FROM "Posts" AS "p" WHERE "p"."AuthorId" = "u"."Id") AS "Views",
                   (SELECT COUNT(*) FROM "Comments" AS "c" INNER JOIN "Posts" AS "p" ON "c"."PostId" = "p"."Id" WHERE "p"."AuthorId" = "u"."Id") AS "Comments"
            FROM "Users" AS "u"
            ORDER BY "Views" DESC, "u"."Id"
            LIMIT $take
            """,
            r => new AuthorRank(r.GetInt32(0), r.GetString(1), r.GetInt32(2), r.GetInt64(3), r.GetInt32(4)), ct, ("$take", take));
}
