using Microsoft.CodeAnalysis;

namespace Caching.Generator.Tests;

/// <summary>One test per diagnostic: its ID, its severity and the exact characters it underlines.</summary>
public sealed class DiagnosticTests
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
    [InlineData("CACHE001", DiagnosticSeverity.Error, """app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:{usrId}"])] (int id, int userId) => 1);""", "usrId", "did you mean 'userId'")]
    [InlineData("CACHE001", DiagnosticSeverity.Error, """app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["cat:{update.CategryId}"])] (int id, PostUpdate update) => 1);""", "CategryId", "did you mean 'CategoryId'")]
    [InlineData("CACHE001", DiagnosticSeverity.Error, """app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["a\\b:{nope}"])] (int id) => 1);""", "nope", "a parameter of the handler")]
    [InlineData("CACHE002", DiagnosticSeverity.Error, """app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:{userId"])] (int id, int userId) => 1);""", "{", "never closed")]
    [InlineData("CACHE002", DiagnosticSeverity.Error, """app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:{}"])] (int id) => 1);""", "{}", "empty")]
    [InlineData("CACHE002", DiagnosticSeverity.Error, """app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:x}"])] (int id) => 1);""", "}", "no matching")]
    [InlineData("CACHE002", DiagnosticSeverity.Error, """app.MapGet("/p/{id}", [Cache("")] (int id) => 1);""", "\"\"", "key prefix is empty")]
    [InlineData("CACHE003", DiagnosticSeverity.Error, """app.MapGet("/p/{postId}", [Cache("post", ResourceIdName = "postid")] (int postId) => 1);""", "postid", "did you mean 'postId'")]
    [InlineData("CACHE014", DiagnosticSeverity.Error, """app.MapGet("/p/{id}", [Cache("post", ResourceIdName = "id", ResourceId = "all")] (int id) => 1);""", "\"all\"", "not both")]
    [InlineData("CACHE016", DiagnosticSeverity.Error, """app.MapGet("/u/{userId}/posts", [Cache("user_posts", ResourceIdName = "userId")] (int userId, int page) => 1);""", "page", "share one entry")]
    [InlineData("CACHE017", DiagnosticSeverity.Warning, """app.MapGet("/p/{id}", [Cache("post")] (int id, HttpRequest request) => request.Query["page"].ToString());""", "request", "whole request")]
    [InlineData("CACHE004", DiagnosticSeverity.Error, """app.MapGet("/p/{slug}", [Cache("post")] (string slug) => 1);""", "Cache(\"post\")", "set ResourceIdName")]
    [InlineData("CACHE005", DiagnosticSeverity.Error, """app.MapGet("/p/{a}/{b}", [Cache("post")] (int userId, int postId) => 1);""", "Cache(\"post\")", "userId, postId")]
    [InlineData("CACHE006", DiagnosticSeverity.Error, """app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["user_posts:*"])] (int id) => 1);""", "*", "PatternToInvalidateExtra")]
    [InlineData("CACHE006", DiagnosticSeverity.Error, """app.MapGet("/p/{id}", [Cache("po?st")] (int id) => 1);""", "?", "not a pattern")]
    [InlineData("CACHE007", DiagnosticSeverity.Warning, """app.MapGet("/p/{id}", [Cache("post", ToInvalidateExtra = ["recent:global"])] (int id) => 1);""", "Cache(\"post\", ToInvalidateExtra = [\"recent:global\"])", "ToInvalidateExtra does nothing on a GET")]
    [InlineData("CACHE008", DiagnosticSeverity.Error, """app.MapGet("/p/{id}", [Cache("post")] (int id) => { });""", "=>", "no response to cache")]
    [InlineData("CACHE008", DiagnosticSeverity.Error, """app.MapGet("/p/{id}", [Cache("post")] async Task (int id) => await Task.Yield());""", "Task", "'Task'")]
    [InlineData("CACHE009", DiagnosticSeverity.Error, """app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["orig:{update.Original}"])] (int id, PostUpdate update) => 1);""", "update.Original", "no invariant text form")]
    [InlineData("CACHE010", DiagnosticSeverity.Error, """app.MapGet("/p/{id}", [Cache("post", Expiration = 0)] (int id) => 1);""", "0", "positive")]
    [InlineData("CACHE021", DiagnosticSeverity.Error, """app.MapGet("/p/{id}", [Cache("post", StaleIfError = -30)] (int id) => 1);""", "-30", "StaleIfError is -30 seconds")]
    [InlineData("CACHE021", DiagnosticSeverity.Error, """app.MapGet("/p/{id}", [Cache("post", StaleWhileRevalidate = -2)] (int id) => 1);""", "-2", "CachingOptions.StaleWhileRevalidate")]
    [InlineData("CACHE012", DiagnosticSeverity.Warning, """var handler = [Cache("post")] (int id) => 1; app.MapGet("/p/{id}", handler);""", "Cache(\"post\")", "not applied")]
    [InlineData("CACHE013", DiagnosticSeverity.Warning, """app.MapPut("/p/{id}", [Cache("post", PatternToInvalidateExtra = ["user_{id}*"])] (int id) => 1);""", "{id}*", "separate placeholders")]
    [InlineData("CACHE020", DiagnosticSeverity.Warning, """app.MapPut("/p/{id}", [Cache("post", PatternToInvalidateExtra = ["user_{id}_posts"])] (int id) => 1);""", "\"user_{id}_posts\"", "did you mean \"user_{id}_posts*\"?")]
    [InlineData("CACHE020", DiagnosticSeverity.Warning, """app.MapPut("/p/{id}", [Cache("post", PatternToInvalidateExtra = ["search_posts_\\*"])] (int id) => 1);""", "\"search_posts_\\\\*\"", "has no wildcard")]
    public void Each_diagnostic_has_its_id_severity_and_exact_span(string id, DiagnosticSeverity severity, string statement, string underlined, string messagePart)
    {
        string source = Prelude + statement + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics, d => d.Id == id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Contains(messagePart, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        string text = source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length);
        Assert.Equal("/src/File0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(underlined, text);
        int statementStart = source.IndexOf(statement, StringComparison.Ordinal);
        int attributeStart = source.IndexOf("[Cache", statementStart, StringComparison.Ordinal);
        int expectedStart = source.IndexOf(underlined, attributeStart, StringComparison.Ordinal);
        Assert.Equal(expectedStart, diagnostic.Location.SourceSpan.Start);
    }

    [Theory]
    [InlineData("global")]
    [InlineData("all posts")]
    [InlineData("a:b_c*é")]
    public void A_fixed_resource_id_is_encoded_as_the_runtime_encodes_values(string id)
    {
        string source = Prelude + "app.MapGet(\"/recent\", [Cache(\"recent_posts\", ResourceId = " + Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(id, true) + ")] () => 1);" + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(source);

        Assert.Empty(run.Diagnostics);
        Assert.Contains("ReadThroughAsync<int>(context, next, Endpoint, " + Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(global::Caching.Keys.CacheKey.Create("recent_posts", id), true) + ")", run.GeneratedSources.Single().SourceText.ToString());
    }

    [Theory]
    [InlineData("StaleIfError = 600", "staleIfErrorSeconds: 600")]
    [InlineData("StaleWhileRevalidate = 0", "staleWhileRevalidateSeconds: 0")]
    [InlineData("StaleIfError = -1", null)]
    public void Stale_windows_reach_the_endpoint_and_minus_one_leaves_the_option(string setting, string? emitted)
    {
        string source = Prelude + "app.MapGet(\"/p/{id}\", [Cache(\"post\", " + setting + ")] (int id) => 1);" + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(source);

        Assert.Empty(run.Diagnostics);
        string generated = run.GeneratedSources.Single().SourceText.ToString();
        if (emitted is null)
        {
            Assert.DoesNotContain("Seconds: -1", generated, StringComparison.Ordinal);
            Assert.DoesNotContain("staleIfErrorSeconds", generated, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(emitted, generated);
        }
    }

    [Fact]
    public void Spans_follow_escapes_and_verbatim_strings()
    {
        string source = Prelude + """
            app.MapPut("/p/{id}", [Cache("post", ToInvalidateExtra = ["a\tb:{nope}", @"x""y:{nada}"])] (int id) => 1);
            """ + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(source);

        string[] underlined = run.Diagnostics.Where(d => d.Id == "CACHE001").Select(d => source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)).ToArray();
        Assert.Equal(["nope", "nada"], underlined);
    }

    [Fact]
    public void One_prefix_cached_with_two_types_is_a_warning_on_both()
    {
        string source = Prelude + """
            app.MapGet("/a/{id}", [Cache("thing")] (int id) => new Post(id, "a"));
            app.MapGet("/b/{id}", [Cache("thing")] (int id) => "text");
            """ + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(source);

        Diagnostic[] conflicts = run.Diagnostics.Where(d => d.Id == "CACHE011").ToArray();
        Assert.Equal(2, conflicts.Length);
        Assert.All(conflicts, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
        Assert.All(conflicts, d => Assert.Equal("Cache(\"thing\")", source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)));
    }

    [Fact]
    public void A_cached_method_passed_through_a_variable_is_a_warning_and_a_mapped_one_is_not()
    {
        string source = Prelude + """
            System.Delegate handler = Stray;
            app.MapGet("/stray/{id}", handler);
            app.MapGet("/mapped/{id}", Mapped);
            app.MapGet("/wrapped/{id}", ([Cache("wrapped")] (int id) => id));
            }

            [Cache("stray")]
            private static int Stray(int id) => id;

            [Cache("mapped")]
            private static int Mapped(int id) => id;

            private static void Unused()
            {
            """ + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(source);

        Diagnostic stray = Assert.Single(run.Diagnostics, d => d.Id == "CACHE012");
        Assert.Equal("Cache(\"stray\")", source.Substring(stray.Location.SourceSpan.Start, stray.Location.SourceSpan.Length));
        string generated = run.GeneratedSources.Single().SourceText.ToString();
        Assert.Contains("\"mapped\"", generated);
        Assert.Contains("\"wrapped\"", generated);
    }

    [Fact]
    public void A_write_through_under_another_namespace_than_the_read_is_a_warning_on_both()
    {
        string source = Prelude + """
            app.MapGet("/u/{id}", [Cache("profile", Namespace = "user:{id}")] (int id) => new Post(id, "a"));
            app.MapPut("/u/{id}", [Cache("profile", WriteThrough = true)] (int id, Post post) => TypedResults.Ok(post));
            """ + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(source);

        Diagnostic[] conflicts = run.Diagnostics.Where(d => d.Id == "CACHE015").ToArray();
        Assert.Equal(2, conflicts.Length);
        Assert.All(conflicts, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
        Assert.Contains(conflicts, d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("namespace \"user:{id}\" and elsewhere with (none)", StringComparison.Ordinal));
    }

    [Fact]
    public void An_action_that_both_reads_and_writes_decides_per_request()
    {
        string source = """
            using Caching;
            using Microsoft.AspNetCore.Mvc;

            [ApiController]
            public sealed class ThingsController : ControllerBase
            {
                [HttpGet("things/{id}")]
                [HttpPost("things/{id}")]
                [Cache("thing_{page}")]
                public ActionResult<string> Thing(int id, int page = 3) => "t";
            }
            """;

        (CacheRun run, var compilation) = GeneratorHarness.Run(source);

        Assert.Empty(run.Diagnostics);
        Assert.Empty(compilation);
        string generated = run.GeneratedSources.Single().SourceText.ToString();
        Assert.Contains("HttpMethods.IsGet(context.HttpContext.Request.Method) || global::Microsoft.AspNetCore.Http.HttpMethods.IsHead(context.HttpContext.Request.Method)", generated);
        Assert.Contains("? _cache.ReadThroughActionAsync<string>", generated);
        Assert.Contains(": _cache.WriteActionAsync<string>", generated);
        Assert.Contains("ActionArguments.Get<int>(context, \"page\", (int)3)", generated);
    }

    [Fact]
    public void An_endpoint_with_an_error_gets_no_generated_code_and_the_app_still_compiles_otherwise()
    {
        string source = Prelude + """
            app.MapGet("/ok/{id}", [Cache("ok")] (int id) => id);
            app.MapGet("/bad/{id}", [Cache("bad", ResourceIdName = "nope")] (int id) => id);
            """ + Epilogue;

        (CacheRun run, var compilation) = GeneratorHarness.Run(source);

        Assert.Single(run.Diagnostics, d => d.Id == "CACHE003");
        string generated = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("\"ok\"", generated);
        Assert.DoesNotContain("\"bad\"", generated);
        Assert.DoesNotContain(compilation, d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("CACHE", StringComparison.Ordinal));
    }

    [Fact]
    public void With_the_request_delegate_generator_on_a_missing_UseAttributeCaching_call_is_an_error_on_the_first_endpoint()
    {
        string statement = """app.MapGet("/p/{id}", [Cache("post")] (int id) => 1);""";
        string source = Prelude + statement + Epilogue;

        (CacheRun withGenerator, _) = GeneratorHarness.Run(requestDelegateGenerator: true, OutputKind.ConsoleApplication, source);
        (CacheRun withCall, var withCallCompilation) = GeneratorHarness.Run(requestDelegateGenerator: true, OutputKind.ConsoleApplication, Prelude + "app.UseAttributeCaching();\n" + statement + Epilogue);
        (CacheRun intercepted, _) = GeneratorHarness.Run(requestDelegateGenerator: false, OutputKind.ConsoleApplication, source);
        (CacheRun library, _) = GeneratorHarness.Run(requestDelegateGenerator: true, OutputKind.DynamicallyLinkedLibrary, source);

        Diagnostic diagnostic = Assert.Single(withGenerator.Diagnostics, d => d.Id == "CACHE018");
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("Cache(\"post\")", source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Contains("UseAttributeCaching()", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(withCall.Diagnostics);
        Assert.Empty(withCallCompilation);
        Assert.Empty(intercepted.Diagnostics);
        Assert.Empty(library.Diagnostics); // a class library that maps endpoints leaves the call to the app
        Assert.Contains("InterceptsLocation", intercepted.GeneratedSources.Single().SourceText.ToString());
        Assert.DoesNotContain("InterceptsLocation", withCall.GeneratedSources.Single().SourceText.ToString());
    }

    [Fact]
    public void With_the_request_delegate_generator_on_two_attributes_on_one_line_are_an_error_on_the_second()
    {
        string statement = """app.UseAttributeCaching(); app.MapGet("/a/{id}", [Cache("a")] (int id) => 1); app.MapGet("/b/{id}", [Cache("b")] (int id) => 2);""";
        string source = Prelude + statement + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(requestDelegateGenerator: true, source);
        (CacheRun intercepted, _) = GeneratorHarness.Run(requestDelegateGenerator: false, source);

        Diagnostic diagnostic = Assert.Single(run.Diagnostics, d => d.Id == "CACHE019");
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("Cache(\"b\")", source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Empty(intercepted.Diagnostics);
    }

    [Fact]
    public void With_the_request_delegate_generator_on_one_handler_mapped_twice_is_registered_once_and_is_no_error()
    {
        string source = Prelude + """
            app.UseAttributeCaching();
            app.MapGet("/a/{id}", Get);
            app.MapGet("/b/{id}", Get);
            }

            [Cache("post")]
            private static int Get(int id) => id;
            private static void Unused() {
            """ + Epilogue;

        (CacheRun run, var compilation) = GeneratorHarness.Run(requestDelegateGenerator: true, source);

        Assert.Empty(run.Diagnostics);
        Assert.Empty(compilation);
        string generated = run.GeneratedSources.Single().SourceText.ToString();
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(generated, "MinimalApiCacheRegistry.Register\\("));
    }

    [Fact]
    public void Every_key_type_the_hit_path_parses_compiles_in_both_modes()
    {
        string source = Prelude + """
            app.UseAttributeCaching();
            app.MapGet("/k/{a}/{b}/{c}/{d}/{e}/{f}", [Cache("k_{a}_{b}_{c}_{d}_{e}_{requestValue0}_{requestText0}_{g}_{h}_{i}_{j}_{k}_{l}_{m}_{n}_{o}_{p}_{q}_{r}_{s}_{t}", ResourceIdName = "f")]
                (bool a, System.Guid b, long c, decimal d, double e, int? f, short requestValue0, string requestText0,
                 char g, sbyte h, byte i, ushort j, uint k, ulong l, float m, System.DateTime n, System.DateTimeOffset o,
                 System.DateOnly p, System.TimeOnly q, System.TimeSpan r, System.DayOfWeek s, System.DayOfWeek? t) => 1);
            """ + Epilogue;

        foreach (bool rdg in new[] { false, true })
        {
            (CacheRun run, var compilation) = GeneratorHarness.Run(rdg, source);

            Assert.DoesNotContain(run.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.DoesNotContain(compilation, d => d.Severity == DiagnosticSeverity.Error);
            string generated = run.GeneratedSources.Single().SourceText.ToString();
            Assert.Contains("global::Caching.Keys.RequestText.TryParse(requestText0_, out bool requestValue0_)", generated); // parameters named like the temporaries
            Assert.Contains("global::Caching.Keys.RequestText.TryParse(requestText1, out global::System.Guid requestValue1)", generated);
            Assert.Contains("int? f = requestValue21;", generated);
            Assert.Contains("global::Caching.Keys.RequestText.TryParseEnum(requestText19, out global::System.DayOfWeek requestValue19)", generated);
            Assert.Contains("global::System.DayOfWeek? t = requestValue20;", generated);
            Assert.Equal(21, System.Text.RegularExpressions.Regex.Matches(generated, "RequestText\\.TryParse").Count); // every value but the string
        }
    }

    [Theory]
    [InlineData("user_{id}_posts", "user_{id}_posts*")]
    [InlineData("user_{id}", "user_{id}:*")]
    [InlineData("recent_posts", "recent_posts*")]
    [InlineData("user_{id}_posts*", null)]
    [InlineData("user_{id}_posts:?", null)]
    [InlineData("user_{id}_[ab]", null)]
    public void A_pattern_without_a_wildcard_suggests_the_pattern_most_likely_meant(string pattern, string? suggestion)
    {
        string source = Prelude + "app.MapPut(\"/p/{id}\", [Cache(\"post\", PatternToInvalidateExtra = [\"" + pattern + "\"])] (int id) => 1);" + Epilogue;

        (CacheRun run, _) = GeneratorHarness.Run(source);

        Diagnostic[] warnings = run.Diagnostics.Where(d => d.Id == "CACHE020").ToArray();
        if (suggestion is null)
        {
            Assert.Empty(warnings);
            return;
        }

        Assert.Contains("did you mean \"" + suggestion + "\"?", Assert.Single(warnings).GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Single(run.GeneratedSources); // a warning: the endpoint is still generated
    }

    [Fact]
    public void Every_descriptor_is_tested_and_listed_in_the_release_notes()
    {
        string[] ids = typeof(CacheGenerator).Assembly.GetType("Caching.Generator.Diagnostics.DiagnosticDescriptors")!
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => ((DiagnosticDescriptor)f.GetValue(null)!).Id)
            .ToArray();
        string releases = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Caching.Generator", "AnalyzerReleases.Shipped.md"))
            + File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Caching.Generator", "AnalyzerReleases.Unshipped.md"));
        string tests = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests", "Caching.Generator.Tests", "DiagnosticTests.cs"));

        Assert.Equal(21, ids.Length);
        Assert.All(ids, id => Assert.Contains(id + " |", releases));
        Assert.All(ids, id => Assert.Contains("\"" + id + "\"", tests));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Caching.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Caching.sln not found");
    }
}
