using Microsoft.EntityFrameworkCore;

namespace BlogApi.Data;

/// <summary>Creates and migrates the database, and fills an empty one with deterministic sample data.</summary>
public static class Seeder
{
    public const int UserCount = 300;
    public const int PostCount = 600;
    public const int CommentCount = 1500;

    private static readonly string[] CategoryNames =
        ["Programming", "Databases", "Caching", "Cloud", "Security", "Testing", "Design", "Careers", "Hardware", "Networks", "Data", "Opinion"];

    public static async Task MigrateAndSeedAsync(BlogDb db, ILogger logger, CancellationToken cancellationToken = default)
    {
        await db.Database.MigrateAsync(cancellationToken);
        if (await db.Users.AnyAsync(cancellationToken))
        {
            return;
        }

        var random = new Random(42);
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var categories = CategoryNames.Select(n => new Category { Name = n, Slug = n.ToLowerInvariant() }).ToList();
        var users = Enumerable.Range(1, UserCount).Select(i => new User { Name = $"User {i}", Email = $"user{i}@example.test", Bio = $"Writes about {CategoryNames[i % CategoryNames.Length].ToLowerInvariant()}." }).ToList();
        db.Categories.AddRange(categories);
        db.Users.AddRange(users);
        await db.SaveChangesAsync(cancellationToken);

        var posts = Enumerable.Range(1, PostCount).Select(i => new Post
        {
            AuthorId = users[random.Next(users.Count)].Id,
            CategoryId = categories[random.Next(categories.Count)].Id,
            Title = $"Post {i}: notes on {CategoryNames[i % CategoryNames.Length].ToLowerInvariant()}",
            Body = $"Body of post {i}. " + string.Concat(Enumerable.Repeat("Lorem ipsum dolor sit amet. ", 1 + (i % 5))),
            Views = random.Next(0, 10_000),
            CreatedAt = start.AddHours(i * 7),
        }).ToList();
        db.Posts.AddRange(posts);
        await db.SaveChangesAsync(cancellationToken);

        db.Comments.AddRange(Enumerable.Range(1, CommentCount).Select(i => new Comment
        {
            PostId = posts[random.Next(posts.Count)].Id,
            AuthorId = users[random.Next(users.Count)].Id,
            Text = $"Comment {i}",
            CreatedAt = start.AddHours(i * 3),
        }));
        await db.SaveChangesAsync(cancellationToken);
        Log.Seeded(logger, UserCount, categories.Count, PostCount, CommentCount);
    }
}

internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded {Users} users, {Categories} categories, {Posts} posts and {Comments} comments")]
    public static partial void Seeded(ILogger logger, int users, int categories, int posts, int comments);
}
