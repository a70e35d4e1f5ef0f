using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Caching.Generator.Emit;
using Caching.Generator.Model;
using Caching.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace Caching.Generator
{
    /// <summary>
    /// Turns [Cache] on minimal-API handlers into C# interceptors of their Map* calls, and [Cache] on controller
    /// actions into generated action filters. Parse (syntax + semantics) → equatable models → emit. It reports
    /// nothing: <see cref="CacheAnalyzer"/> parses with the same code and reports every CACHE diagnostic, and an
    /// endpoint with an error gets no generated code (it runs uncached).
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

            /// <summary>All parse results together.</summary>
            public const string All = nameof(All);
        }

        /// <inheritdoc />
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // Only valid endpoints: diagnostics are the analyzer's (CacheAnalyzer), which parses the same way.
            IncrementalValuesProvider<EndpointModel> mapCalls = context.SyntaxProvider
                .CreateSyntaxProvider(MapCallParser.IsCandidate, static (c, ct) => MapCallParser.Parse(c, ct)?.Endpoint)
                .Where(static e => e is not null)
                .Select(static (e, _) => e!)
                .WithTrackingName(Steps.MapCalls);

            IncrementalValuesProvider<EndpointModel> attributed = context.SyntaxProvider
                .ForAttributeWithMetadataName(AttributeReader.CacheAttributeName, AttributedMethodParser.IsCandidate, static (c, ct) => AttributedMethodParser.Parse(c, ct)?.Endpoint)
                .Where(static e => e is not null)
                .Select(static (e, _) => e!)
                .WithTrackingName(Steps.AttributedMethods);

            IncrementalValueProvider<bool> requestDelegateGenerator = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => GenerationMode.IsRequestDelegateGeneratorOn(options.GlobalOptions))
                .WithTrackingName(Steps.Mode);

            IncrementalValueProvider<((ImmutableArray<EndpointModel> Left, ImmutableArray<EndpointModel> Right) Endpoints, bool RequestDelegateGenerator)> all = mapCalls.Collect()
                .Combine(attributed.Collect())
                .Combine(requestDelegateGenerator)
                .WithTrackingName(Steps.All);

            context.RegisterSourceOutput(all, static (output, input) => Execute(output, input.Endpoints.Left.AddRange(input.Endpoints.Right), input.RequestDelegateGenerator));
        }

        private static void Execute(SourceProductionContext output, ImmutableArray<EndpointModel> found, bool requestDelegateGenerator)
        {
            EndpointModel[] endpoints = EndpointSetRules.InSourceOrder(found);

            ImmutableArray<EndpointModel> minimal = endpoints.Where(e => e.Kind == EndpointKind.MinimalApi).ToImmutableArray();
            if (minimal.Length > 0)
            {
                output.AddSource("CachedEndpoints.g.cs", requestDelegateGenerator ? EndpointEmitter.EmitMinimalApiRegistrations(minimal) : EndpointEmitter.EmitMinimalApis(minimal));
            }

            ImmutableArray<EndpointModel> controllers = endpoints.Where(e => e.Kind == EndpointKind.Controller).ToImmutableArray();
            if (controllers.Length > 0)
            {
                output.AddSource("CachedControllerActions.g.cs", EndpointEmitter.EmitControllers(controllers));
            }
        }
    }
}
