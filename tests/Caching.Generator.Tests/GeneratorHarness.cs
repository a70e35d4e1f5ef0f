using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Caching.Generator.Tests;

/// <summary>Runs the generator and the analyzer over source text, compiled against the real ASP.NET Core and Caching assemblies.</summary>
public static partial class GeneratorHarness
{
    /// <summary>The runtime's, ASP.NET Core's and the Caching assemblies, as a user project references them.</summary>
    public static ImmutableArray<MetadataReference> References { get; } = LoadReferences();

    public static CSharpParseOptions ParseOptions { get; } = new CSharpParseOptions(LanguageVersion.Preview)
        .WithFeatures([new KeyValuePair<string, string>("InterceptorsNamespaces", "Caching.Generated")]);

    public static CSharpCompilation Compile(params string[] sources) => Compile(OutputKind.DynamicallyLinkedLibrary, sources);

    public static CSharpCompilation Compile(OutputKind outputKind, params string[] sources)
    {
        return CSharpCompilation.Create(
            "TestApp",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"/src/File{i}.cs")),
            References,
            new CSharpCompilationOptions(outputKind, nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary>A driver for the generator; <paramref name="requestDelegateGenerator"/> sets EnableRequestDelegateGenerator.</summary>
    public static GeneratorDriver CreateDriver(bool requestDelegateGenerator = false) => CSharpGeneratorDriver.Create(
        [new CacheGenerator().AsSourceGenerator()],
        parseOptions: ParseOptions,
        optionsProvider: new BuildProperties(requestDelegateGenerator ? new() { ["build_property.EnableRequestDelegateGenerator"] = "true" } : []),
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator and the analyzer, as a build does; returns both results and the compilation's own diagnostics.</summary>
    public static (CacheRun Run, ImmutableArray<Diagnostic> CompilationDiagnostics) Run(params string[] sources) => Run(false, sources);

    /// <summary>Runs the generator and the analyzer with or without the Request Delegate Generator's property set.</summary>
    public static (CacheRun Run, ImmutableArray<Diagnostic> CompilationDiagnostics) Run(bool requestDelegateGenerator, params string[] sources)
        => Run(requestDelegateGenerator, OutputKind.DynamicallyLinkedLibrary, sources);

    /// <summary>Runs the generator and the analyzer over an application (a Main is added) or a library.</summary>
    public static (CacheRun Run, ImmutableArray<Diagnostic> CompilationDiagnostics) Run(bool requestDelegateGenerator, OutputKind outputKind, params string[] sources)
    {
        if (outputKind == OutputKind.ConsoleApplication)
        {
            sources = [.. sources, "public static class EntryPoint { public static void Main() { } }"];
        }

        CSharpCompilation compilation = Compile(outputKind, sources);
        GeneratorDriver driver = CreateDriver(requestDelegateGenerator).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        GeneratorRunResult run = driver.GetRunResult().Results.Single();
        IncrementalChecks.AssertCachedOnRerun(driver, compilation);
        ImmutableArray<Diagnostic> analyzer = Analyze(output, requestDelegateGenerator);
        return (new CacheRun(run, analyzer), output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray());
    }

    /// <summary>
    /// The analyzer's diagnostics over a compilation (with the generated code in it, as in a build), after
    /// #pragma and [SuppressMessage] suppression, as the compiler reports them.
    /// </summary>
    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation, bool requestDelegateGenerator = false)
    {
        var options = new Microsoft.CodeAnalysis.Diagnostics.AnalyzerOptions([], new BuildProperties(requestDelegateGenerator ? new() { ["build_property.EnableRequestDelegateGenerator"] = "true" } : []));
        return compilation
            .WithAnalyzers([new CacheAnalyzer()], new Microsoft.CodeAnalysis.Diagnostics.CompilationWithAnalyzersOptions(options, onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: false))
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None)
            .GetAwaiter()
            .GetResult();
    }

    /// <summary>The generated text with the interceptable-location data (a checksum of the file) scrubbed.</summary>
    public static string Scrub(string generated) => LocationData().Replace(generated, "InterceptsLocation(1, \"(scrubbed)\")");

    [GeneratedRegex("InterceptsLocation\\(1, \"[^\"]+\"\\)")]
    private static partial Regex LocationData();

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string trusted = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        var paths = trusted.Split(Path.PathSeparator).ToList();
        paths.Add(typeof(CacheAttribute).Assembly.Location);
        paths.Add(typeof(global::Caching.AspNetCore.EndpointCacheRuntime).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    }

    private sealed class BuildProperties(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
    {
        private readonly Options global = new(values);

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions => global;

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
        {
            public static readonly Options Empty = new([]);

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }
}

/// <summary>One run of the generator and the analyzer over the same source.</summary>
/// <param name="Generator">The generator's run: its sources, steps and (none expected) diagnostics.</param>
/// <param name="Diagnostics">What the analyzer reports: every CACHE diagnostic.</param>
public sealed record CacheRun(GeneratorRunResult Generator, ImmutableArray<Diagnostic> Diagnostics)
{
    public ImmutableArray<GeneratedSourceResult> GeneratedSources => Generator.GeneratedSources;
}

