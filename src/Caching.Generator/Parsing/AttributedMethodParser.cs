using System.Linq;
using System.Threading;
using Caching.Generator.Diagnostics;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Caching.Generator.Parsing
{
    /// <summary>
    /// Handles [Cache] where it is declared: controller actions become filtered endpoints; a lambda that is not
    /// the handler of a Map* call gets a warning that caching is not applied.
    /// </summary>
    internal static class AttributedMethodParser
    {
        public static bool IsCandidate(SyntaxNode node, CancellationToken cancellationToken)
            => node is MethodDeclarationSyntax or LambdaExpressionSyntax or LocalFunctionStatementSyntax;

        /// <summary>The generator's entry: the attributed declaration and its [Cache].</summary>
        public static ParseResult? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
            => Parse(context.TargetNode, context.TargetSymbol, context.Attributes[0], context.SemanticModel, cancellationToken);

        /// <summary>
        /// Parses [Cache] (<paramref name="cacheAttribute"/>) on a method, local function or lambda. Shared by the
        /// generator and the analyzer.
        /// </summary>
        public static ParseResult? Parse(SyntaxNode target, ISymbol? symbol, AttributeData cacheAttribute, SemanticModel semantic, CancellationToken cancellationToken)
        {
            if (cacheAttribute.ApplicationSyntaxReference is not { } application)
            {
                return null;
            }

            if (target is LambdaExpressionSyntax lambda)
            {
                if (MapCallParser.IsHandlerOfMapCall(lambda, semantic, cancellationToken))
                {
                    return null;
                }

                LocationInfo where = LocationInfo.From(lambda.SyntaxTree, application.Span);
                return new ParseResult(null, new[] { DiagnosticInfo.Create(DiagnosticDescriptors.NotAttached, where) }.ToEquatableArray());
            }

            if (symbol is not IMethodSymbol method)
            {
                return null;
            }

            KnownTypeSymbols known = KnownTypeSymbols.For(semantic.Compilation);
            if (!IsControllerAction(method, known))
            {
                // Possibly a method group passed to Map*: reported (CACHE012) unless some Map* call uses it.
                LocationInfo where = LocationInfo.From(target.SyntaxTree, application.Span);
                return new ParseResult(null, EquatableArray<DiagnosticInfo>.Empty, UnattachedMethodId: method.OriginalDefinition.GetDocumentationCommentId() ?? method.ToDisplayString(), UnattachedMethodLocation: where);
            }

            if (AttributeReader.Read(cacheAttribute, cancellationToken) is not { } attribute)
            {
                return null;
            }

            (AccessKind access, string verb) = AccessOf(method, known);
            var action = new ControllerActionModel(
                TypeNames.FullyQualified(method.ContainingType),
                method.Name,
                method.Parameters.Select(p => TypeNames.FullyQualified(p.Type)).ToEquatableArray());
            LocationInfo location = LocationInfo.From(method.Locations.FirstOrDefault()) ?? LocationInfo.From(target.SyntaxTree, target.Span);
            string description = method.ContainingType.Name + "." + method.Name + " (" + verb + ") at " + location.Display;
            return EndpointFactory.Create(attribute, method, EndpointKind.Controller, access, verb, description, null, action, known);
        }

        private static bool IsControllerAction(IMethodSymbol method, KnownTypeSymbols known)
        {
            if (method.IsStatic || method.DeclaredAccessibility != Accessibility.Public || method.MethodKind != MethodKind.Ordinary)
            {
                return false;
            }

            INamedTypeSymbol type = method.ContainingType;
            if (type.IsAbstract || type.DeclaredAccessibility != Accessibility.Public)
            {
                return false;
            }

            for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
            {
                if (KnownTypeSymbols.Is(current, known.ControllerBase))
                {
                    return true;
                }

                if (current.GetAttributes().Any(a => KnownTypeSymbols.Is(a.AttributeClass, known.ApiControllerAttribute) || KnownTypeSymbols.Is(a.AttributeClass, known.ControllerAttribute)))
                {
                    return true;
                }
            }

            return false;
        }

        private static (AccessKind Access, string Verb) AccessOf(IMethodSymbol method, KnownTypeSymbols known)
        {
            var verbs = new System.Collections.Generic.List<string>();
            foreach (AttributeData attribute in method.GetAttributes())
            {
                INamedTypeSymbol? type = attribute.AttributeClass;
                string? verb = KnownTypeSymbols.Is(type, known.HttpGetAttribute) ? "GET"
                    : KnownTypeSymbols.Is(type, known.HttpHeadAttribute) ? "HEAD"
                    : KnownTypeSymbols.Is(type, known.HttpPostAttribute) ? "POST"
                    : KnownTypeSymbols.Is(type, known.HttpPutAttribute) ? "PUT"
                    : KnownTypeSymbols.Is(type, known.HttpPatchAttribute) ? "PATCH"
                    : KnownTypeSymbols.Is(type, known.HttpDeleteAttribute) ? "DELETE"
                    : KnownTypeSymbols.Is(type, known.AcceptVerbsAttribute) ? "*"
                    : null;
                if (verb is not null)
                {
                    verbs.Add(verb);
                }
            }

            // Several verbs that read and write on one action: decided per request, never guessed.
            if (verbs.Count == 0 || verbs.Contains("*"))
            {
                return (AccessKind.ByRequestMethod, "any method");
            }

            string text = string.Join("/", verbs.Distinct());
            bool reads = verbs.All(v => v == "GET" || v == "HEAD");
            bool writes = verbs.All(v => v != "GET" && v != "HEAD");
            return reads ? (AccessKind.Read, text) : writes ? (AccessKind.Write, text) : (AccessKind.ByRequestMethod, text);
        }
    }
}
