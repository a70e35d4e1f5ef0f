using BlogApi.Data;
using Caching;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace BlogApi.Endpoints;

/// <summary>Users: a namespace per user ("invalidate everything about user 42" in O(1)) and write-through.</summary>
public static class UserEndpoints
{
    public static void MapUsers(this WebApplication app)
    {
        RouteGroupBuilder users = app.MapGroup("/users/{userId:int}").WithTags("Users");

        // TTL chosen by data: a profile lives an hour. It belongs to the namespace user:{userId}.
        users.MapGet("/profile", [Cache("user_profile", ResourceIdName = "userId", Expiration = 3600, Namespace = "user:{userId}")]
            async Task<Results<Ok<UserProfileDto>, NotFound>> (int userId, BlogDb db, CancellationToken ct) =>
                await ProfileAsync(db, userId, ct) is { } profile ? TypedResults.Ok(profile) : TypedResults.NotFound());

        // The user's latest comments, in the same namespace.
        users.MapGet("/comments", [Cache("user_comments", ResourceIdName = "userId", Expiration = 600, Namespace = "user:{userId}")]
            async (int userId, BlogDb db, CancellationToken ct) =>
                await db.Comments.AsNoTracking().Where(c => c.AuthorId == userId).OrderByDescending(c => c.CreatedAt).Take(20)
                    .Select(c => new CommentDto(c.Id, c.PostId, c.AuthorId, c.Text, c.CreatedAt)).ToArrayAsync(ct));

        // Write-through: the updated profile is stored under user_profile:{userId}, so the next read is a fresh hit.
        users.MapPut("/profile", [Cache("user_profile", ResourceIdName = "userId", Expiration = 3600, Namespace = "user:{userId}", WriteThrough = true)]
            async Task<Results<Ok<UserProfileDto>, NotFound>> (int userId, ProfileUpdate update, BlogDb db, CancellationToken ct) =>
            {
                User? user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct);
                if (user is null)
                {
                    return TypedResults.NotFound();
                }

                user.Bio = update.Bio;
                await db.SaveChangesAsync(ct);
                return TypedResults.Ok((await ProfileAsync(db, userId, ct))!);
            });

        // Renaming a user changes everything about them: one namespace bump, O(1), whatever the number of entries.
        users.MapPut("/", [Cache("user", ResourceIdName = "userId", InvalidateNamespaces = ["user:{userId}"])]
            async Task<Results<NoContent, NotFound, ValidationProblem>> (int userId, UserUpdate update, BlogDb db, CancellationToken ct) =>
            {
                if (string.IsNullOrWhiteSpace(update.Name))
                {
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["A name is required."] });
                }

                User? user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct);
                if (user is null)
                {
                    return TypedResults.NotFound();
                }

                user.Name = update.Name;
                await db.SaveChangesAsync(ct);
                return TypedResults.NoContent();
            });
    }

    private static Task<UserProfileDto?> ProfileAsync(BlogDb db, int userId, CancellationToken ct) =>
        db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new UserProfileDto(u.Id, u.Name, u.Bio, u.Posts.Count))
            .FirstOrDefaultAsync(ct);
}
