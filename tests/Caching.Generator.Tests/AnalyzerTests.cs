using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using static Caching.Generator.Tests.AnalyzerVerifier;

namespace Caching.Generator.Tests;

/// <summary>
/// Every CACHE diagnostic through Microsoft's analyzer test framework, on the exact characters it underlines. The
/// framework also re-runs each case with <c>#pragma warning disable</c> around the diagnostics and checks they go.
/// </summary>
public sealed class AnalyzerTests
{
    private const string Prelude = """
        using System.Threading.Tasks;
        using Caching;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using Microsoft.AspNetCore.Http.HttpResults;
        using Microsoft.AspNetCore.Mvc;

        public sealed record Post(int Id, string Title);
        public sealed record PostUpdate(int CategoryId, string Title, Post Original);

        public static class Endpoints
        {
            public static void Map(WebApplication app)
            {

        """;

    private const string Epilogue = """

            }
        }
        """;

    [Theory]
    [InlineData("""app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:{{|CACHE001:usrId|}}"])] (int id, int userId) => 1);""")]
    [InlineData("""app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["cat:{update.{|CACHE001:CategryId|}}"])] (int id, PostUpdate update) => 1);""")]
    [InlineData("""app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:{|CACHE002:{|}userId"])] (int id, int userId) => 1);""")]
    [InlineData("""app.MapGet("/p/{id}", [Cache({|CACHE002:""|})] (int id) => 1);""")]
    [InlineData("""app.MapGet("/p/{postId}", [Cache("post", ResourceIdName = "{|CACHE003:postid|}")] (int postId) => 1);""")]
    [InlineData("""app.MapGet("/p/{slug}", [{|CACHE004:Cache("post")|}] (string slug) => 1);""")]
    [InlineData("""app.MapGet("/p/{a}/{b}", [{|CACHE005:Cache("post")|}] (int userId, int postId) => 1);""")]
    [InlineData("""app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:{|CACHE006:*|}"])] (int id) => 1);""")]
    [InlineData("""app.MapGet("/p/{id}", [{|CACHE007:Cache("post", ToInvalidateExtra = ["recent:global"])|}] (int id) => 1);""")]
    [InlineData("""app.MapGet("/p/{id}", [Cache("post")] (int id) {|CACHE008:=>|} { });""")]
    [InlineData("""app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["orig:{{|CACHE009:update.Original|}}"])] (int id, PostUpdate update) => 1);""")]
    [InlineData("""app.MapGet("/p/{id}", [Cache("post", Expiration = {|CACHE010:0|})] (int id) => 1);""")]
    [InlineData("""var handler = [{|CACHE012:Cache("post")|}] (int id) => 1; app.MapGet("/p/{id}", handler);""")]
    [InlineData("""app.MapPut("/p/{id}", [Cache("post", PatternToInvalidateExtra = ["user_{|CACHE013:{id}*|}"])] (int id) => 1);""")]
    [InlineData("""app.MapGet("/p/{id}", [Cache("post", ResourceIdName = "id", ResourceId = {|CACHE014:"all"|})] (int id) => 1);""")]
    [InlineData("""app.MapGet("/u/{userId}/posts", [Cache("user_posts", ResourceIdName = "userId")] (int userId, int {|CACHE016:page|}) => 1);""")]
    [InlineData("""app.MapGet("/p/{id}", [Cache("post")] (int id, HttpRequest {|CACHE017:request|}) => request.Query["page"].ToString());""")]
    [InlineData("""app.MapPut("/p/{id}", [Cache("post", PatternToInvalidateExtra = [{|CACHE020:"user_{id}_posts"|}])] (int id) => 1);""")]
    [InlineData("""app.MapGet("/p/{id}", [Cache("post", StaleIfError = {|CACHE021:-30|})] (int id) => 1);""")]
    public Task Each_diagnostic_is_reported_on_its_characters(string statement)
        => VerifyAsync(Prelude + statement + Epilogue);

    [Fact]
    public Task One_prefix_cached_with_two_types_is_CACHE011_on_both()
        => VerifyAsync(Prelude + """
            app.MapGet("/a/{id}", [{|CACHE011:Cache("thing")|}] (int id) => new Post(id, "a"));
            app.MapGet("/b/{id}", [{|CACHE011:Cache("thing")|}] (int id) => "text");
            """ + Epilogue);

    [Fact]
    public Task A_write_through_under_another_namespace_is_CACHE015_on_both()
        => VerifyAsync(Prelude + """
            app.MapGet("/u/{id}", [{|CACHE015:Cache("profile", Namespace = "user:{id}")|}] (int id) => new Post(id, "a"));
            app.MapPut("/u/{id}", [{|CACHE015:Cache("profile", WriteThrough = true)|}] (int id, Post post) => TypedResults.Ok(post));
            """ + Epilogue);

    [Fact]
    public Task A_cached_method_never_mapped_is_CACHE012_and_a_mapped_one_is_not()
        => VerifyAsync(Prelude + """
            System.Delegate handler = Stray;
            app.MapGet("/stray/{id}", handler);
            app.MapGet("/mapped/{id}", Mapped);
            }

            [{|CACHE012:Cache("stray")|}]
            private static int Stray(int id) => id;

            [Cache("mapped")]
            private static int Mapped(int id) => id;

            private static void Unused()
            {
            """ + Epilogue);

    [Fact]
    public Task With_the_request_delegate_generator_an_app_without_UseAttributeCaching_is_CACHE018()
        => VerifyAsync(
            Prelude + """app.MapGet("/p/{id}", [{|CACHE018:Cache("post")|}] (int id) => 1);""" + Epilogue + "\npublic static class EntryPoint { public static void Main() { } }",
            requestDelegateGenerator: true,
            OutputKind.ConsoleApplication);

    [Fact]
    public Task With_the_request_delegate_generator_two_attributes_on_one_line_are_CACHE019_on_the_second()
        => VerifyAsync(
            Prelude + """app.MapGet("/a/{id}", [Cache("a")] (int id) => 1); app.MapGet("/b/{id}", [{|CACHE019:Cache("b")|}] (int id) => 1);""" + Epilogue,
            requestDelegateGenerator: true,
            OutputKind.DynamicallyLinkedLibrary);

    [Fact]
    public Task A_template_mistake_in_a_method_group_mapped_twice_is_reported_once()
        => VerifyAsync(Prelude + """
            app.MapGet("/a/{id}", Get);
            app.MapGet("/b/{id}", Get);
            }

            [Cache("post_{{|CACHE001:pge|}}")]
            private static int Get(int id, int page) => id + page;

            private static void Unused()
            {
            """ + Epilogue);

    [Fact]
    public Task A_valid_endpoint_has_no_diagnostic()
        => VerifyAsync(Prelude + """
            app.MapGet("/u/{userId}/posts", [Cache("user_posts_{page}", ResourceIdName = "userId")] (int userId, int page) => new Post(userId, "t"));
            app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:{userId}"], PatternToInvalidateExtra = ["user_{userId}_*"])] (int id, int userId) => 1);
            """ + Epilogue);

    // The binder goes by IFromQueryMetadata, not by the attribute's name: so does the analyzer (KnownTypeSymbols).
    [Fact]
    public Task A_custom_attribute_the_binder_reads_as_a_query_value_puts_the_value_in_the_key()
        => VerifyAsync(Prelude + """app.MapGet("/p/{id}", [Cache("post")] (int id, [Paging] PageArgs {|CACHE016:paging|}) => 1);""" + Epilogue + """

            public sealed record PageArgs(int Page);

            [System.AttributeUsage(System.AttributeTargets.Parameter)]
            public sealed class PagingAttribute : System.Attribute, Microsoft.AspNetCore.Http.Metadata.IFromQueryMetadata
            {
                public string? Name => "page";
            }
            """);
}
