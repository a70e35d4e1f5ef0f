using BlogApi.Data;
using Caching;
using Microsoft.AspNetCore.Http.HttpResults;

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
                await db.ProfileAsync(userId, ct) is { } profile ? TypedResults.Ok(profile) : TypedResults.NotFound());

        // The user's latest comments, in the same namespace.
        users.MapGet("/comments", [Cache("user_comments", ResourceIdName = "userId", Expiration = 600, Namespace = "user:{userId}")]
            async (int userId, BlogDb db, CancellationToken ct) =>
                await db.LatestCommentsByAuthorAsync(userId, 20, ct));

        // Not a [Cache] endpoint: the report service caches through HybridCache, under a key that PUT /posts/{id}
        // invalidates (the pattern user_{AuthorId}_posts:*).
        users.MapGet("/highlights", (int userId, BlogApi.Reports.AuthorHighlightsReport report, CancellationToken ct) => report.GetAsync(userId, ct));

        // Write-through: the updated profile is stored under user_profile:{userId}, so the next read is a fresh hit.
        users.MapPut("/profile", [Cache("user_profile", ResourceIdName = "userId", Expiration = 3600, Namespace = "user:{userId}", WriteThrough = true)]
            async Task<Results<Ok<UserProfileDto>, NotFound>> (int userId, ProfileUpdate update, BlogDb db, CancellationToken ct) =>
            {
                if (!await db.SetBioAsync(userId, update.Bio, ct))
                {
                    return TypedResults.NotFound();
                }

                return TypedResults.Ok((await db.ProfileAsync(userId, ct))!);
            });

        // Renaming a user changes everything about them: one namespace bump, O(1), whatever the number of entries.
        users.MapPut("/", [Cache("user", ResourceIdName = "userId", InvalidateNamespaces = ["user:{userId}"])]
            async Task<Results<NoContent, NotFound, ValidationProblem>> (int userId, UserUpdate update, BlogDb db, CancellationToken ct) =>
            {
                if (string.IsNullOrWhiteSpace(update.Name))
                {
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["A name is required."] });
                }

                return await db.RenameUserAsync(userId, update.Name, ct) ? TypedResults.NoContent() : TypedResults.NotFound();
            });
    }
}
