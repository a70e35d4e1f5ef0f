using Microsoft.CodeAnalysis;

namespace Caching.Generator.Tests;

/// <summary>
/// CACHE016, one case per way a minimal-API parameter can bind: a value the request supplies and the key leaves
/// out is an error at the parameter; a value in the key, or one that does not come from the request, is none.
/// </summary>
public sealed class RequestBindingCorpusTests
{
    private const string Prelude = """
        using System;
        using System.Globalization;
        using System.IO;
        using System.IO.Pipelines;
        using System.Reflection;
        using System.Security.Claims;
        using System.Threading;
        using System.Threading.Tasks;
        using Caching;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using Microsoft.AspNetCore.Mvc;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Primitives;

        public sealed record Post(int Id, string Title);
        public sealed class Db { }
        public sealed record PageArgs(int Page, int Size);
        public sealed record ServicedArgs(int Page, [FromServices] Db Db, CancellationToken Token);
        public sealed record HeaderArgs([FromHeader(Name = "X-Tenant")] string Tenant, [FromQuery(Name = "p")] int Page);
        public sealed class FilterArgs
        {
            public string? Q { get; set; }
            public HttpContext Context { get; set; } = null!;
        }

        public readonly record struct Point(int X, int Y) : IFormattable
        {
            public static bool TryParse(string? text, out Point point) { point = default; return text is not null; }
            public string ToString(string? format, IFormatProvider? provider) => X + "," + Y;
        }

        public readonly record struct Plain(int X)
        {
            public static bool TryParse(string? text, IFormatProvider? provider, out Plain plain) { plain = default; return text is not null; }
        }

        public sealed class Tenant : IFormattable
        {
            public static ValueTask<Tenant?> BindAsync(HttpContext context) => ValueTask.FromResult<Tenant?>(new Tenant());
            public string ToString(string? format, IFormatProvider? provider) => "t";
        }

        public sealed class Locale
        {
            public static ValueTask<Locale?> BindAsync(HttpContext context, ParameterInfo parameter) => ValueTask.FromResult<Locale?>(new Locale());
        }

        public static class Endpoints
        {
            public static void Map(WebApplication app)
            {

        """;

    private const string Epilogue = """

            }
        }
        """;

    // (attribute arguments, handler parameters, the value CACHE016 names or null for no diagnostic)
    [Theory]
    // route and query values
    [InlineData("\"p\"", "int id, int page", "page")]
    [InlineData("\"p_{page}\"", "int id, int page", null)]
    [InlineData("\"p\"", "int id, [FromQuery] int page", "page")]
    [InlineData("\"p_{page}\"", "int id, [FromQuery(Name = \"pg\")] int page", null)]
    [InlineData("\"p\", ResourceIdName = \"postId\"", "[FromRoute(Name = \"post_id\")] int postId, int? page", "page")]
    [InlineData("\"p\"", "int id, string? q", "q")]
    [InlineData("\"p\"", "int id, DayOfWeek day", "day")]
    [InlineData("\"p\"", "int id, DateOnly? day", "day")]
    [InlineData("\"p_{day}\"", "int id, DateOnly? day", null)]
    // headers, forms, bodies
    [InlineData("\"p\"", "int id, [FromHeader(Name = \"X-Tenant\")] string tenant", "tenant")]
    [InlineData("\"p_{tenant}\"", "int id, [FromHeader(Name = \"X-Tenant\")] string tenant", null)]
    [InlineData("\"p\"", "int id, [FromForm] string name", "name")]
    [InlineData("\"p\"", "int id, [FromBody] Post post", "post")]
    [InlineData("\"p\"", "int id, IFormFile file", "file")]
    [InlineData("\"p\"", "int id, IFormCollection form", "form")]
    [InlineData("\"p\"", "int id, Stream body", "body")]
    [InlineData("\"p\"", "int id, PipeReader body", "body")]
    // arrays and StringValues
    [InlineData("\"p\"", "int id, [FromQuery] string[] tags", "tags")]
    [InlineData("\"p\"", "int id, int[] ids", "ids")]
    [InlineData("\"p\"", "int id, StringValues tags", "tags")]
    [InlineData("\"p\"", "int id, [FromHeader(Name = \"Accept-Language\")] StringValues languages", "languages")]
    // [AsParameters]
    [InlineData("\"p_{args.Size}\"", "int id, [AsParameters] PageArgs args", "args.Page")]
    [InlineData("\"p_{args.Page}\"", "int id, [AsParameters] PageArgs args", "args.Size")]
    [InlineData("\"p_{args.Page}_{args.Size}\"", "int id, [AsParameters] PageArgs args", null)]
    [InlineData("\"p_{args.Page}\"", "int id, [AsParameters] ServicedArgs args", null)]
    [InlineData("\"p_{args.Page}\"", "int id, [AsParameters] HeaderArgs args", "args.Tenant")]
    [InlineData("\"p\"", "int id, [AsParameters] FilterArgs filter", "filter.Q")]
    [InlineData("\"p_{filter.Q}\"", "int id, [AsParameters] FilterArgs filter", null)]
    // TryParse and BindAsync types
    [InlineData("\"p\"", "int id, Point at", "at")]
    [InlineData("\"p_{at}\"", "int id, Point at", null)]
    [InlineData("\"p\"", "int id, Plain plain", "plain")]
    [InlineData("\"p\"", "int id, Tenant tenant", "tenant")]
    [InlineData("\"p_{tenant}\"", "int id, Tenant tenant", null)]
    [InlineData("\"p\"", "int id, Locale locale", "locale")]
    // not request values
    [InlineData("\"p\"", "int id, CancellationToken token", null)]
    [InlineData("\"p\"", "int id, ClaimsPrincipal user", null)]
    [InlineData("\"p\"", "int id, HttpResponse response", null)]
    [InlineData("\"p\"", "int id, [FromServices] Db db", null)]
    [InlineData("\"p\"", "int id, [FromKeyedServices(\"main\")] Db db", null)]
    [InlineData("\"p\"", "int id, Db db", null)]
    [InlineData("\"p\"", "int id, [FromServices] Point at", null)]
    public void A_request_value_missing_from_the_key_is_CACHE016_at_the_parameter(string cache, string parameters, string? missing)
    {
        string statement = "app.MapGet(\"/p/{id}\", [Cache(" + cache + ")] (" + parameters + ") => 1);";
        string source = Prelude + statement + Epilogue;

        (CacheRun run, var compilation) = GeneratorHarness.Run(source);

        Assert.DoesNotContain(compilation, d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("CACHE", StringComparison.Ordinal));
        Diagnostic[] notInKey = run.Diagnostics.Where(d => d.Id == "CACHE016").ToArray();
        if (missing is null)
        {
            Assert.Empty(notInKey);
            Assert.DoesNotContain(run.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
            return;
        }

        Diagnostic diagnostic = Assert.Single(notInKey);
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'" + missing + "'", message);
        Assert.Contains("put {" + missing + "} in the key", message);
        string root = missing.Split('.')[0];
        int start = source.IndexOf(statement, StringComparison.Ordinal);
        string underlined = source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length);
        Assert.Equal(root, underlined);
        Assert.True(diagnostic.Location.SourceSpan.Start > source.IndexOf("] (", start, StringComparison.Ordinal), "CACHE016 is reported at the handler's parameter");
    }

    [Fact]
    public void A_BindAsync_value_says_that_its_type_reads_the_request()
    {
        (CacheRun run, _) = GeneratorHarness.Run(Prelude + "app.MapGet(\"/p/{id}\", [Cache(\"p\")] (int id, Locale locale) => 1);" + Epilogue);

        Assert.Contains("BindAsync", Assert.Single(run.Diagnostics, d => d.Id == "CACHE016").GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_TryParse_value_that_is_not_IFormattable_cannot_be_in_a_key()
    {
        (CacheRun run, _) = GeneratorHarness.Run(Prelude + "app.MapGet(\"/p/{id}\", [Cache(\"p_{plain}\")] (int id, Plain plain) => 1);" + Epilogue);

        Assert.Single(run.Diagnostics, d => d.Id == "CACHE009");
        Assert.Empty(run.GeneratedSources);
    }
}
