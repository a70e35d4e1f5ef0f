using System.Collections.Generic;
using System.Linq;
using Caching.Generator.Diagnostics;
using Caching.Generator.Model;

namespace Caching.Generator.Parsing
{
    /// <summary>
    /// The rules that need every [Cache] of the project at once: stray attributes (CACHE012), key prefixes shared
    /// with different types or namespaces (CACHE011, CACHE015), and the Request Delegate Generator's registration
    /// (CACHE018, CACHE019). The analyzer reports them when the compilation ends.
    /// </summary>
    internal static class EndpointSetRules
    {
        public static IEnumerable<DiagnosticInfo> Check(IReadOnlyCollection<ParseResult> results, GenerationMode mode)
        {
            EndpointModel[] endpoints = InSourceOrder(results);

            // [Cache] methods that no Map* call takes as its handler (passed through a variable, or never mapped).
            var attached = new HashSet<string>(results.Select(r => r.HandlerMethodId).OfType<string>(), System.StringComparer.Ordinal);
            foreach (ParseResult stray in results.Where(r => r.UnattachedMethodId is not null && !attached.Contains(r.UnattachedMethodId)))
            {
                yield return DiagnosticInfo.Create(DiagnosticDescriptors.NotAttached, stray.UnattachedMethodLocation);
            }

            foreach (DiagnosticInfo diagnostic in PrefixConflicts(endpoints))
            {
                yield return diagnostic;
            }

            EndpointModel[] minimal = endpoints.Where(e => e.Kind == EndpointKind.MinimalApi).ToArray();
            if (minimal.Length > 0 && mode.RequestDelegateGenerator)
            {
                foreach (DiagnosticInfo diagnostic in RegistrationProblems(minimal, mode))
                {
                    yield return diagnostic;
                }
            }
        }

        /// <summary>The valid endpoints, by file and position of their attribute (the order of the generated code).</summary>
        public static EndpointModel[] InSourceOrder(IEnumerable<ParseResult> results)
            => InSourceOrder(results.Select(r => r.Endpoint).OfType<EndpointModel>());

        /// <summary>Endpoints by file and position of their attribute (the order of the generated code).</summary>
        public static EndpointModel[] InSourceOrder(IEnumerable<EndpointModel> endpoints)
            => endpoints
                .OrderBy(e => e.AttributeLocation.FilePath, System.StringComparer.Ordinal)
                .ThenBy(e => e.AttributeLocation.Span.Start)
                .ToArray();

        // Reads of one key prefix with different value types would deserialize each other's entries.
        private static IEnumerable<DiagnosticInfo> PrefixConflicts(EndpointModel[] endpoints)
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
                    yield return DiagnosticInfo.Create(DiagnosticDescriptors.PrefixWithDifferentTypes, endpoint.AttributeLocation, group.Key, endpoint.Result.ValueTypeName!, other);
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
                    yield return DiagnosticInfo.Create(DiagnosticDescriptors.PrefixWithDifferentNamespaces, endpoint.AttributeLocation, group.Key, mine, spaces.First(s => s != mine));
                }
            }
        }

        // With the Request Delegate Generator on, endpoints are found by the attribute's file and line, through
        // UseAttributeCaching(): both must hold.
        private static IEnumerable<DiagnosticInfo> RegistrationProblems(EndpointModel[] minimal, GenerationMode mode)
        {
            if (!mode.CallsUseAttributeCaching && mode.IsApplication)
            {
                yield return DiagnosticInfo.Create(DiagnosticDescriptors.UseAttributeCachingMissing, minimal[0].AttributeLocation);
            }

            // One handler mapped twice has one attribute: one registration serves both. Two attributes on one line
            // cannot be told apart.
            foreach (IGrouping<SourceAnchor?, EndpointModel> line in minimal.GroupBy(e => e.Anchor))
            {
                EndpointModel first = line.First();
                foreach (EndpointModel endpoint in line.Skip(1).Where(e => !e.AttributeLocation.Equals(first.AttributeLocation)))
                {
                    yield return DiagnosticInfo.Create(DiagnosticDescriptors.TwoAttributesOnOneLine, endpoint.AttributeLocation, first.Description);
                }
            }
        }

        private static string NamespaceText(EndpointModel endpoint) => endpoint.Namespace is null ? "(none)" : "\"" + endpoint.Namespace.Source + "\"";
    }
}
