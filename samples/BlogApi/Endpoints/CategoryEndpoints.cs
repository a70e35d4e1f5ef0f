using BlogApi.Data;
using Caching;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BlogApi.Endpoints;

/// <summary>Categories: reference data filed under tags, invalidated in bulk by tag.</summary>
public static class CategoryEndpoints
{
    public static void MapCategories(this WebApplication app)
    {
        RouteGroupBuilder categories = app.MapGroup("/categories").WithTags("Categories");

        // Reference data: a day, filed under the tag "categories". Warmed at start-up.
        categories.MapGet("/", [Cache("categories", ResourceId = "all", Expiration = 86400, Tags = ["categories"])]
            async (BlogDb db, CancellationToken ct) => await AllAsync(db, ct));

        categories.MapGet("/{categoryId:int}", [Cache("category", ResourceIdName = "categoryId", Expiration = 86400, Tags = ["categories", "category:{categoryId}"])]
            async Task<Results<Ok<CategoryDto>, NotFound>> (int categoryId, BlogDb db, CancellationToken ct) =>
                await db.FindCategoryAsync(categoryId, ct) is { } category
                    ? TypedResults.Ok(category)
                    : TypedResults.NotFound());

        // Renaming a category invalidates everything filed under its tag (the category, its post list) and the list.
        categories.MapPut("/{categoryId:int}", [Cache("category", ResourceIdName = "categoryId", InvalidateTags = ["category:{categoryId}", "categories"])]
            async Task<Results<Ok<CategoryDto>, NotFound, ValidationProblem>> (int categoryId, CategoryUpdate update, BlogDb db, CancellationToken ct) =>
            {
                if (string.IsNullOrWhiteSpace(update.Name))
                {
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["A name is required."] });
                }

                return await db.RenameCategoryAsync(categoryId, update.Name, ct) is { } category
                    ? TypedResults.Ok(category)
                    : TypedResults.NotFound();
            });
    }

    // Shared with the warmer.
    public static Task<CategoryDto[]> AllAsync(BlogDb db, CancellationToken ct) => db.CategoriesAsync(ct);
}
