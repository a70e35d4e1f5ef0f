using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Caching.Generator.Diagnostics;
using Caching.Generator.Emit;
using Caching.Generator.Model;
using Caching.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace Caching.Generator
{
    /// <summary>
    /// Turns [Cache] on minimal-API handlers into C# interceptors of their Map* calls, and [Cache] on controller
    /// actions into generated action filters. Parse (syntax + semantics) → equatable models → emit.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class CacheGenerator : IIncrementalGenerator
    {
        /// <summary>Tracking names of the pipeline steps, for incrementality tests.</summary>
        public static class Steps
        {
            /// <summary>Map* calls whose handler carries [Cache].</summary>
            public const string MapCalls = nameof(MapCalls);

            /// <summary>[Cache] on controller actions and stray lambdas.</summary>
            public const string AttributedMethods = nameof(AttributedMethods);

            /// <summary>Whether the Request Delegate Generator is on.</summary>
            public const string Mode = nameof(Mode);

            /// <summary>Whether the project is an application (not a class library).</summary>
            public const string OutputKind = nameof(OutputKind);

            /// <summary>Whether the project calls UseAttributeCaching().</summary>
            public const string UseAttributeCachingCalls = nameof(UseAttributeCachingCalls);

            /// <summary>All parse results together.</summary>
            public const string All = nameof(All);
        }

        /// <inheritdoc />
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<ParseResult> mapCalls = context.SyntaxProvider
                .CreateSyntaxProvider(MapCallParser.IsCandidate, MapCallParser.Parse)
                .Where(static r => r is not null)
                .Select(static (r, _) => r!)
                .WithTrackingName(Steps.MapCalls);

            IncrementalValuesProvider<ParseResult> attributed = context.SyntaxProvider
                .ForAttributeWithMetadataName(AttributeReader.CacheAttributeName, AttributedMethodParser.IsCandidate, AttributedMethodParser.Parse)
                .Where(static r => r is not null)
                .Select(static (r, _) => r!)
                .WithTrackingName(Steps.AttributedMethods);

            IncrementalValueProvider<bool> requestDelegateGenerator = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => GenerationMode.IsRequestDelegateGeneratorOn(options.GlobalOptions))
                .WithTrackingName(Steps.Mode);

            IncrementalValueProvider<bool> callsUseAttributeCaching = context.SyntaxProvider
                .CreateSyntaxProvider(GenerationMode.IsUseAttributeCachingCall, static (_, _) => true)
                .Collect()
                .Select(static (calls, _) => calls.Length > 0)
                .WithTrackingName(Steps.UseAttributeCachingCalls);

            IncrementalValueProvider<bool> isApplication = context.CompilationProvider
                .Select(static (compilation, _) => compilation.Options.OutputKind != OutputKind.DynamicallyLinkedLibrary && compilation.Options.OutputKind != OutputKind.NetModule)
                .WithTrackingName(Steps.OutputKind);

            IncrementalValueProvider<((ImmutableArray<ParseResult> Left, ImmutableArray<ParseResult> Right) Results, GenerationMode Mode)> all = mapCalls.Collect()
                .Combine(attributed.Collect())
                .Combine(requestDelegateGenerator.Combine(callsUseAttributeCaching).Combine(isApplication).Select(static (m, _) => new GenerationMode(m.Left.Left, m.Left.Right, m.Right)))
                .WithTrackingName(Steps.All);

            context.RegisterSourceOutput(all, static (output, input) => Execute(output, input.Results.Left.AddRange(input.Results.Right), input.Mode));
        }

        private static void Execute(SourceProductionContext output, ImmutableArray<ParseResult> results, GenerationMode mode)
        {
            foreach (DiagnosticInfo diagnostic in results.SelectMany(r => r.Diagnostics))
            {
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
            }

            ImmutableArray<EndpointModel> endpoints = results
                .Where(r => r.Endpoint is not null)
                .Select(r => r.Endpoint!)
                .OrderBy(e => e.AttributeLocation.FilePath, System.StringComparer.Ordinal)
                .ThenBy(e => e.AttributeLocation.Span.Start)
                .ToImmutableArray();

            // [Cache] methods that no Map* call takes as its handler (passed through a variable, or never mapped).
            var attached = new HashSet<string>(results.Select(r => r.HandlerMethodId).OfType<string>(), System.StringComparer.Ordinal);
            foreach (ParseResult stray in results.Where(r => r.UnattachedMethodId is not null && !attached.Contains(r.UnattachedMethodId)))
            {
                output.ReportDiagnostic(DiagnosticInfo.Create(DiagnosticDescriptors.NotAttached, stray.UnattachedMethodLocation).ToDiagnostic());
            }

            foreach (Diagnostic diagnostic in PrefixConflicts(endpoints))
            {
                output.ReportDiagnostic(diagnostic);
            }

            ImmutableArray<EndpointModel> minimal = endpoints.Where(e => e.Kind == EndpointKind.MinimalApi).ToImmutableArray();
            if (minimal.Length > 0 && mode.RequestDelegateGenerator)
            {
                foreach (Diagnostic diagnostic in RegistrationProblems(minimal, mode))
                {
                    output.ReportDiagnostic(diagnostic);
                }

                output.AddSource("CachedEndpoints.g.cs", EndpointEmitter.EmitMinimalApiRegistrations(minimal));
            }
            else if (minimal.Length > 0)
            {
                output.AddSource("CachedEndpoints.g.cs", EndpointEmitter.EmitMinimalApis(minimal));
            }

            ImmutableArray<EndpointModel> controllers = endpoints.Where(e => e.Kind == EndpointKind.Controller).ToImmutableArray();
            if (controllers.Length > 0)
            {
                output.AddSource("CachedControllerActions.g.cs", EndpointEmitter.EmitControllers(controllers));
            }
        }

        // Reads of one key prefix with different value types would deserialize each other's entries.
        private static IEnumerable<Diagnostic> PrefixConflicts(ImmutableArray<EndpointModel> endpoints)
        {
            foreach (IGrouping<string, EndpointModel> group in endpoints.Where(e => e.Access != AccessKind.Write && e.Result.ValueTypeName is not null).GroupBy(e => e.KeyPrefixSource))
            {
                string[] types = group.Select(e => e.Result.ValueTypeName!).Distinct().ToArray();
                if (types.Length < 2)
                {
                    continue;
                }

                foreach (EndpointModel endpoint in group)
                {
                    string other = types.First(t => t != endpoint.Result.ValueTypeName);
                    yield return DiagnosticInfo.Create(DiagnosticDescriptors.PrefixWithDifferentTypes, endpoint.AttributeLocation, group.Key, endpoint.Result.ValueTypeName!, other).ToDiagnostic();
                }
            }

            // Entries written (reads, and writes with WriteThrough) under one prefix must agree on the namespace.
            foreach (IGrouping<string, EndpointModel> group in endpoints.Where(e => e.Access != AccessKind.Write || e.WriteThrough).GroupBy(e => e.KeyPrefixSource))
            {
                string[] spaces = group.Select(NamespaceText).Distinct().ToArray();
                if (spaces.Length < 2)
                {
                    continue;
                }

                foreach (EndpointModel endpoint in group)
                {
                    string mine = NamespaceText(endpoint);
                    yield return DiagnosticInfo.Create(DiagnosticDescriptors.PrefixWithDifferentNamespaces, endpoint.AttributeLocation, group.Key, mine, spaces.First(s => s != mine)).ToDiagnostic();
                }
            }
        }

        // With the Request Delegate Generator on, endpoints are found by the attribute's file and line, through
        // UseAttributeCaching(): both must hold.
        private static IEnumerable<Diagnostic> RegistrationProblems(ImmutableArray<EndpointModel> minimal, GenerationMode mode)
        {
            if (!mode.CallsUseAttributeCaching && mode.IsApplication)
            {
                yield return DiagnosticInfo.Create(DiagnosticDescriptors.UseAttributeCachingMissing, minimal[0].AttributeLocation).ToDiagnostic();
            }

            // One handler mapped twice has one attribute: one registration serves both. Two attributes on one line
            // cannot be told apart.
            foreach (IGrouping<SourceAnchor?, EndpointModel> line in minimal.GroupBy(e => e.Anchor))
            {
                EndpointModel first = line.First();
                foreach (EndpointModel endpoint in line.Skip(1).Where(e => !e.AttributeLocation.Equals(first.AttributeLocation)))
                {
                    yield return DiagnosticInfo.Create(DiagnosticDescriptors.TwoAttributesOnOneLine, endpoint.AttributeLocation, first.Description).ToDiagnostic();
                }
            }
        }

        private static string NamespaceText(EndpointModel endpoint) => endpoint.Namespace is null ? "(none)" : "\"" + endpoint.Namespace.Source + "\"";
    }
}
