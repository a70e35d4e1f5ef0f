using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Caching.Generator.Tests;

/// <summary>The pipeline's models compare by value, so an unrelated edit re-uses every cached step.</summary>
public sealed class IncrementalTests
{
    private const string Endpoints = """
        using Caching;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Mvc;

        public sealed record Post(int Id, string Title);

        public static class Endpoints
        {
            public static void Map(WebApplication app)
            {
                app.MapGet("/posts/{id}", [Cache("post", Expiration = 60)] (int id) => new Post(id, "t"));
                app.MapPut("/posts/{id}", [Cache("post", ToInvalidateExtra = ["recent:global"])] (int id, Post post) => post);
                app.MapGet("/plain/{id}", (int id) => id);
            }
        }

        [ApiController]
        public sealed class PostsController : ControllerBase
        {
            [HttpGet("{id}")]
            [Cache("api_post")]
            public ActionResult<Post> Get(int id) => new Post(id, "t");
        }
        """;

    private static readonly IReadOnlyList<string> TrackedSteps = IncrementalChecks.TrackingNames;

    [Fact]
    public void An_unrelated_edit_leaves_every_tracked_step_cached_or_unchanged()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(Endpoints, "public static class Other { public static int Value => 1; }");
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        GeneratorRunResult first = driver.GetRunResult().Results.Single();
        Assert.Equal(2, first.GeneratedSources.Length);

        SyntaxTree other = compilation.SyntaxTrees.Last();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(other, other.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From("public static class Other { public static int Value => 2; }")));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (string step in TrackedSteps)
        {
            Assert.True(second.TrackedSteps.ContainsKey(step), $"step {step} was not tracked");
            foreach (IncrementalGeneratorRunStep run in second.TrackedSteps[step])
            {
                Assert.All(run.Outputs, output => Assert.True(
                    output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"{step} output was {output.Reason}"));
            }
        }

        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_a_cached_handler_updates_the_generated_code()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(Endpoints);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        SyntaxTree tree = compilation.SyntaxTrees.Single();
        string changed = Endpoints.Replace("Expiration = 60", "Expiration = 90", StringComparison.Ordinal);
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(changed)));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Contains(second.TrackedSteps[CacheGenerator.Steps.MapCalls].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("expirationSeconds: 90", second.GeneratedSources.Single(s => s.HintName == "CachedEndpoints.g.cs").SourceText.ToString());
    }

    [Fact]
    public void Models_of_the_same_source_are_equal_by_value()
    {
        object[] Models()
        {
            GeneratorRunResult run = GeneratorHarness.CreateDriver().RunGenerators(GeneratorHarness.Compile(Endpoints)).GetRunResult().Results.Single();
            return run.TrackedSteps[CacheGenerator.Steps.MapCalls].SelectMany(s => s.Outputs).Select(o => o.Value).ToArray();
        }

        object[] a = Models();
        object[] b = Models();

        Assert.Equal(2, a.Length);
        Assert.Equal(a, b);
        Assert.NotSame(a[0], b[0]);
    }

    // The checks every harness run makes must themselves be able to fail.
    [Fact]
    public void The_object_graph_check_finds_a_symbol_held_deep_in_a_value()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(Endpoints);
        ISymbol symbol = compilation.GetTypeByMetadataName("Post")!;
        var holder = new List<object> { "text", new Dictionary<string, object> { ["deep"] = new object[] { 1, symbol } } };

        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => IncrementalChecks.AssertHoldsNoCompilerObjects(holder, "test"));
        IncrementalChecks.AssertHoldsNoCompilerObjects(new List<object> { "text", 1 }, "test");
    }

    [Fact]
    public void Every_tracked_step_is_checked_and_exists()
    {
        GeneratorRunResult run = GeneratorHarness.CreateDriver().RunGenerators(GeneratorHarness.Compile(Endpoints)).GetRunResult().Results.Single();
        Assert.All(IncrementalChecks.TrackingNames, name => Assert.True(run.TrackedSteps.ContainsKey(name), $"step {name} was not tracked"));
    }
}
