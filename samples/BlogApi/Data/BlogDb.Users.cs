namespace BlogApi.Data;

// Users.
public sealed partial class BlogDb
{
    /// <summary>A user's profile with the number of posts they wrote, or null.</summary>
    public Task<UserProfileDto?> ProfileAsync(int userId, CancellationToken ct) =>
        QueryFirstAsync(
            """
            SELECT "u"."Id", "u"."Name", "u"."Bio", (SELECT COUNT(*) FROM "Posts" AS "p" WHERE "p"."AuthorId" = "u"."Id")
            FROM "Users" AS "u"
            WHERE "u"."Id" = $userId
            LIMIT 1
            """,
            r => new UserProfileDto(r.GetInt32(0), r.GetString(1), r.GetString(2), r.GetInt32(3)), ct, ("$userId", userId));

    public async Task<bool> UserExistsAsync(int userId, CancellationToken ct) =>
        await ScalarAsync("""SELECT EXISTS (SELECT 1 FROM "Users" WHERE "Id" = $userId)""", ct, ("$userId", userId)) == 1;

    public Task<int[]> UserIdsAsync(CancellationToken ct) =>
        QueryAsync("""SELECT "Id" FROM "Users" """, r => r.GetInt32(0), ct);

    /// <summary>Sets a user's bio; false if there is no such user.</summary>
    public async Task<bool> SetBioAsync(int userId, string bio, CancellationToken ct) =>
        await ExecuteAsync("""UPDATE "Users" SET "Bio" = $bio WHERE "Id" = $userId""", ct, ("$bio", bio), ("$userId", userId)) == 1;

    /// <summary>Renames a user; false if there is no such user.</summary>
    public async Task<bool> RenameUserAsync(int userId, string name, CancellationToken ct) =>
        await ExecuteAsync("""UPDATE "Users" SET "Name" = $name WHERE "Id" = $userId""", ct, ("$name", name), ("$userId", userId)) == 1;
}
