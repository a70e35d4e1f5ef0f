using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Caching.Generator.Diagnostics;
using Caching.Generator.Model;
using Caching.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Caching.Generator
{
    /// <summary>
    /// Reports every CACHE diagnostic on the syntax tree, so <c>#pragma warning disable</c>, <c>[SuppressMessage]</c>,
    /// .editorconfig severities and <c>NoWarn</c> apply, and the IDE shows them while typing. It parses [Cache] with
    /// the generator's own parsers (<see cref="MapCallParser"/>, <see cref="AttributedMethodParser"/>,
    /// <see cref="EndpointSetRules"/>): one reading of what a template means, for the code and for the diagnostics.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class CacheAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc />
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.All;

        /// <inheritdoc />
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(static start =>
            {
                // A project that cannot see [Cache] has nothing to check: no per-node work at all.
                INamedTypeSymbol? cacheAttribute = KnownTypeSymbols.For(start.Compilation).CacheAttribute;
                if (cacheAttribute is null)
                {
                    return;
                }

                var session = new Session(start.Compilation, cacheAttribute);
                start.RegisterSyntaxNodeAction(session.AnalyzeInvocation, SyntaxKind.InvocationExpression);
                start.RegisterSyntaxNodeAction(session.AnalyzeDeclaration, SyntaxKind.MethodDeclaration, SyntaxKind.LocalFunctionStatement, SyntaxKind.ParenthesizedLambdaExpression);
                start.RegisterCompilationEndAction(session.End);
            });
        }

        /// <summary>What one compilation's analysis collects for the rules that need every endpoint.</summary>
        private sealed class Session
        {
            private readonly Compilation _compilation;
            private readonly INamedTypeSymbol _cacheAttribute;
            private readonly ConcurrentQueue<ParseResult> _results = new();

            // A template of a method-group handler mapped twice is parsed twice: its diagnostics are reported once.
            private readonly ConcurrentDictionary<DiagnosticInfo, byte> _reported = new();
            private Dictionary<string, SyntaxTree>? _trees;
            private int _callsUseAttributeCaching;

            public Session(Compilation compilation, INamedTypeSymbol cacheAttribute)
            {
                _compilation = compilation;
                _cacheAttribute = cacheAttribute;
            }

            public void AnalyzeInvocation(SyntaxNodeAnalysisContext context)
            {
                if (GenerationMode.IsUseAttributeCachingCall(context.Node, context.CancellationToken))
                {
                    Interlocked.Exchange(ref _callsUseAttributeCaching, 1);
                    return;
                }

                if (!MapCallParser.IsCandidate(context.Node, context.CancellationToken))
                {
                    return;
                }

                Collect(context, MapCallParser.Parse((InvocationExpressionSyntax)context.Node, context.SemanticModel, context.CancellationToken));
            }

            public void AnalyzeDeclaration(SyntaxNodeAnalysisContext context)
            {
                SyntaxNode node = context.Node;
                bool hasAttributes = node switch
                {
                    MethodDeclarationSyntax method => method.AttributeLists.Count > 0,
                    LocalFunctionStatementSyntax local => local.AttributeLists.Count > 0,
                    ParenthesizedLambdaExpressionSyntax lambda => lambda.AttributeLists.Count > 0,
                    _ => false,
                };
                if (!hasAttributes)
                {
                    return;
                }

                ISymbol? symbol = node is LambdaExpressionSyntax
                    ? context.SemanticModel.GetSymbolInfo(node, context.CancellationToken).Symbol
                    : context.SemanticModel.GetDeclaredSymbol(node, context.CancellationToken);
                AttributeData? cache = symbol?.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, _cacheAttribute));
                if (cache is null)
                {
                    return;
                }

                Collect(context, AttributedMethodParser.Parse(node, symbol, cache, context.SemanticModel, context.CancellationToken));
            }

            public void End(CompilationAnalysisContext context)
            {
                var mode = new GenerationMode(
                    GenerationMode.IsRequestDelegateGeneratorOn(context.Options.AnalyzerConfigOptionsProvider.GlobalOptions),
                    Volatile.Read(ref _callsUseAttributeCaching) == 1,
                    _compilation.Options.OutputKind is not (OutputKind.DynamicallyLinkedLibrary or OutputKind.NetModule));
                foreach (DiagnosticInfo diagnostic in EndpointSetRules.Check(_results.ToArray(), mode))
                {
                    if (_reported.TryAdd(diagnostic, 0))
                    {
                        context.ReportDiagnostic(diagnostic.ToDiagnostic(Tree));
                    }
                }
            }

            private void Collect(SyntaxNodeAnalysisContext context, ParseResult? result)
            {
                if (result is null)
                {
                    return;
                }

                _results.Enqueue(result);
                foreach (DiagnosticInfo diagnostic in result.Diagnostics)
                {
                    if (_reported.TryAdd(diagnostic, 0))
                    {
                        context.ReportDiagnostic(diagnostic.ToDiagnostic(Tree));
                    }
                }
            }

            private SyntaxTree? Tree(string path)
            {
                Dictionary<string, SyntaxTree>? trees = Volatile.Read(ref _trees);
                if (trees is null)
                {
                    trees = new Dictionary<string, SyntaxTree>(System.StringComparer.Ordinal);
                    foreach (SyntaxTree tree in _compilation.SyntaxTrees)
                    {
                        if (!trees.ContainsKey(tree.FilePath))
                        {
                            trees.Add(tree.FilePath, tree);
                        }
                    }

                    Volatile.Write(ref _trees, trees);
                }

                return trees.TryGetValue(path, out SyntaxTree? found) ? found : null;
            }
        }
    }
}
