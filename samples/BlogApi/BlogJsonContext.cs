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
internal sealed partial class BlogJsonContext : JsonSerializerContext;
