using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Caching.Generator.Tests;

/// <summary>
/// Runs <see cref="CacheAnalyzer"/> through Microsoft's analyzer test framework: expected diagnostics are written in
/// the source as <c>{|CACHE001:text|}</c>, and the framework also checks that each diagnostic is suppressed by
/// <c>#pragma warning disable</c> and is not reported in generated code.
/// </summary>
public static class AnalyzerVerifier
{
    /// <summary>Analyzes <paramref name="source"/> (markup) and compares its diagnostics with the markup's and <paramref name="expected"/>.</summary>
    public static Task VerifyAsync(string source, params DiagnosticResult[] expected) => VerifyAsync(source, requestDelegateGenerator: false, OutputKind.DynamicallyLinkedLibrary, expected);

    /// <summary>As <see cref="VerifyAsync(string, DiagnosticResult[])"/>, with the Request Delegate Generator's property and the output kind set.</summary>
    public static Task VerifyAsync(string source, bool requestDelegateGenerator, OutputKind outputKind, params DiagnosticResult[] expected)
    {
        var test = new Test(outputKind) { TestCode = source };
        if (requestDelegateGenerator)
        {
            test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nbuild_property.EnableRequestDelegateGenerator = true\n"));
        }

        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(CancellationToken.None);
    }

    /// <summary>An expected diagnostic by ID, with its location set by <c>{|#0:...|}</c> markup.</summary>
    public static DiagnosticResult Diagnostic(string id) => new(id, Descriptor(id).DefaultSeverity);

    private static DiagnosticDescriptor Descriptor(string id) => new CacheAnalyzer().SupportedDiagnostics.Single(d => d.Id == id);

    /// <summary>The analyzer test with the same references as <see cref="GeneratorHarness"/> (no package download).</summary>
    public sealed class Test : CSharpAnalyzerTest<CacheAnalyzer, DefaultVerifier>
    {
        public Test(OutputKind outputKind = OutputKind.DynamicallyLinkedLibrary)
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
            TestState.OutputKind = outputKind;
        }

        protected override ParseOptions CreateParseOptions() => GeneratorHarness.ParseOptions;

        protected override CompilationOptions CreateCompilationOptions()
            => ((Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions)base.CreateCompilationOptions()).WithNullableContextOptions(NullableContextOptions.Enable);
    }
}
