using Microsoft.Data.Sqlite;

namespace BlogApi.Data;

/// <summary>Creates the database's tables, and fills an empty database with deterministic sample data.</summary>
public static class Seeder
{
    public const int UserCount = 300;
    public const int PostCount = 600;
    public const int CommentCount = 1500;

    private static readonly string[] CategoryNames =
        ["Programming", "Databases", "Caching", "Cloud", "Security", "Testing", "Design", "Careers", "Hardware", "Networks", "Data", "Opinion"];

    public static async Task CreateAndSeedAsync(BlogDb db, ILogger logger, CancellationToken cancellationToken = default)
    {
        await db.EnsureCreatedAsync(cancellationToken);
        await using SqliteConnection connection = await db.OpenAsync(cancellationToken);
        await using (SqliteCommand any = BlogDb.Command(connection, """SELECT EXISTS (SELECT 1 FROM "Users")"""))
        {
            if ((long)(await any.ExecuteScalarAsync(cancellationToken))! == 1)
            {
                return;
            }
        }

        // The same data every time: one random sequence, drawn in a fixed order; ids as the database assigns them.
        await using SqliteTransaction transaction = connection.BeginTransaction();
        var random = new Random(42);
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        var categoryIds = new List<int>();
        foreach (string name in CategoryNames)
        {
            categoryIds.Add(await InsertAsync("""INSERT INTO "Categories" ("Name", "Slug") VALUES ($name, $slug) RETURNING "Id" """,
                ("$name", name), ("$slug", name.ToLowerInvariant())));
        }

        var userIds = new List<int>();
        for (int i = 1; i <= UserCount; i++)
        {
            userIds.Add(await InsertAsync("""INSERT INTO "Users" ("Name", "Email", "Bio") VALUES ($name, $email, $bio) RETURNING "Id" """,
                ("$name", $"User {i}"), ("$email", $"user{i}@example.test"), ("$bio", $"Writes about {CategoryNames[i % CategoryNames.Length].ToLowerInvariant()}.")));
        }

        var postIds = new List<int>();
        for (int i = 1; i <= PostCount; i++)
        {
            int authorId = userIds[random.Next(userIds.Count)];
            int categoryId = categoryIds[random.Next(categoryIds.Count)];
            string title = $"Post {i}: notes on {CategoryNames[i % CategoryNames.Length].ToLowerInvariant()}";
            string body = $"Body of post {i}. " + string.Concat(Enumerable.Repeat("Lorem ipsum dolor sit amet. ", 1 + (i % 5)));
            int views = random.Next(0, 10_000);
            postIds.Add(await InsertAsync(
                """INSERT INTO "Posts" ("AuthorId", "CategoryId", "Title", "Body", "Views", "CreatedAt") VALUES ($authorId, $categoryId, $title, $body, $views, $createdAt) RETURNING "Id" """,
                ("$authorId", authorId), ("$categoryId", categoryId), ("$title", title), ("$body", body), ("$views", views), ("$createdAt", start.AddHours(i * 7))));
        }

        for (int i = 1; i <= CommentCount; i++)
        {
            int postId = postIds[random.Next(postIds.Count)];
            int authorId = userIds[random.Next(userIds.Count)];
            await InsertAsync("""INSERT INTO "Comments" ("PostId", "AuthorId", "Text", "CreatedAt") VALUES ($postId, $authorId, $text, $createdAt) RETURNING "Id" """,
                ("$postId", postId), ("$authorId", authorId), ("$text", $"Comment {i}"), ("$createdAt", start.AddHours(i * 3)));
        }

        await transaction.CommitAsync(cancellationToken);
        Log.Seeded(logger, UserCount, categoryIds.Count, PostCount, CommentCount);

        async Task<int> InsertAsync(string sql, params (string Name, object? Value)[] parameters)
        {
            await using SqliteCommand insert = BlogDb.Command(connection, sql, parameters);
            insert.Transaction = transaction;
            return (int)(long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        }
    }
}

internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded {Users} users, {Categories} categories, {Posts} posts and {Comments} comments")]
    public static partial void Seeded(ILogger logger, int users, int categories, int posts, int comments);
}
