using Microsoft.Data.Sqlite;

namespace BlogApi.Data;

// Categories.
public sealed partial class BlogDb
{
    public Task<CategoryDto[]> CategoriesAsync(CancellationToken ct) =>
        QueryAsync("""SELECT "Id", "Name", "Slug" FROM "Categories" ORDER BY "Id" """, ReadCategory, ct);

    public Task<CategoryDto?> FindCategoryAsync(int categoryId, CancellationToken ct) =>
        QueryFirstAsync("""SELECT "Id", "Name", "Slug" FROM "Categories" WHERE "Id" = $categoryId LIMIT 1""", ReadCategory, ct, ("$categoryId", categoryId));

    public async Task<bool> CategoryExistsAsync(int categoryId, CancellationToken ct) =>
        await ScalarAsync("""SELECT EXISTS (SELECT 1 FROM "Categories" WHERE "Id" = $categoryId)""", ct, ("$categoryId", categoryId)) == 1;

    public Task<int[]> CategoryIdsAsync(CancellationToken ct) =>
        QueryAsync("""SELECT "Id" FROM "Categories" """, r => r.GetInt32(0), ct);

    /// <summary>Renames a category; returns it renamed, or null if there is no such category.</summary>
    public Task<CategoryDto?> RenameCategoryAsync(int categoryId, string name, CancellationToken ct) =>
        QueryFirstAsync("""UPDATE "Categories" SET "Name" = $name WHERE "Id" = $categoryId RETURNING "Id", "Name", "Slug" """,
            ReadCategory, ct, ("$name", name), ("$categoryId", categoryId));

    private static CategoryDto ReadCategory(SqliteDataReader r) => new(r.GetInt32(0), r.GetString(1), r.GetString(2));
}
