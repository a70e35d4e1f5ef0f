using System.Text.Json;
using System.Text.Json.Serialization;
using BlogApi.Data;
using BlogApi.Endpoints;
using Caching.Diagnostics;

namespace BlogApi;

/// <summary>
/// Source-generated JSON for every type the endpoints accept or return, and so every value the cache stores:
/// no reflection-based serialization, which Native AOT does not have. Registered first in the app's
/// <c>JsonOptions</c> (Program.cs), whose web defaults (camelCase) apply, so the JSON is what reflection would write.
/// ASP.NET Core adds no metadata for its own problem-details types unless AddProblemDetails() is called (which
/// would also give empty 400 responses a body), so the validation problem is listed here too.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PostDto))]
[JsonSerializable(typeof(PostSummary[]))]
[JsonSerializable(typeof(UserProfileDto))]
[JsonSerializable(typeof(CategoryDto))]
[JsonSerializable(typeof(CategoryDto[]))]
[JsonSerializable(typeof(CommentDto))]
[JsonSerializable(typeof(CommentDto[]))]
[JsonSerializable(typeof(LiveStats))]
[JsonSerializable(typeof(AuthorRank[]))]
[JsonSerializable(typeof(BlogApi.Reports.AuthorHighlights))] // stored through HybridCache, with these options
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(PostUpdate))]
[JsonSerializable(typeof(PostMove))]
[JsonSerializable(typeof(NewPost[]))]
[JsonSerializable(typeof(ProfileUpdate))]
[JsonSerializable(typeof(UserUpdate))]
[JsonSerializable(typeof(CategoryUpdate))]
[JsonSerializable(typeof(NewComment))]
[JsonSerializable(typeof(AdminEndpoints.ImportResult))]
[JsonSerializable(typeof(IReadOnlyList<KeyPrefixStatistics>))]
[JsonSerializable(typeof(KeyPrefixStatistics[]))]
[JsonSerializable(typeof(HttpValidationProblemDetails))] // TypedResults.ValidationProblem; also read by the OpenAPI document
internal sealed partial class BlogJsonContext : JsonSerializerContext;
