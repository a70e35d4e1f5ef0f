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
            => node is MethodDeclarationSyntax or LambdaExpressionSyntax;

        public static ParseResult? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetNode is LambdaExpressionSyntax lambda)
            {
                if (MapCallParser.IsHandlerOfMapCall(lambda, context.SemanticModel, cancellationToken))
                {
                    return null;
                }

                LocationInfo where = LocationInfo.From(lambda.SyntaxTree, context.Attributes[0].ApplicationSyntaxReference!.Span);
                return new ParseResult(null, new[] { DiagnosticInfo.Create(DiagnosticDescriptors.NotAttached, where) }.ToEquatableArray());
            }

            if (context.TargetSymbol is not IMethodSymbol method || !IsControllerAction(method))
            {
                return null;
            }

            if (AttributeReader.Read(context.Attributes[0], cancellationToken) is not { } attribute)
            {
                return null;
            }

            (AccessKind access, string verb) = AccessOf(method);
            var action = new ControllerActionModel(
                TypeNames.FullyQualified(method.ContainingType),
                method.Name,
                method.Parameters.Select(p => TypeNames.FullyQualified(p.Type)).ToEquatableArray());
            LocationInfo location = LocationInfo.From(method.Locations.FirstOrDefault()) ?? LocationInfo.From(context.TargetNode.SyntaxTree, context.TargetNode.Span);
            string description = method.ContainingType.Name + "." + method.Name + " (" + verb + ") at " + location.Display;
            return EndpointFactory.Create(attribute, method, EndpointKind.Controller, access, verb, description, null, action, context.SemanticModel.Compilation);
        }

        private static bool IsControllerAction(IMethodSymbol method)
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
                string name = current.ToDisplayString();
                if (name == "Microsoft.AspNetCore.Mvc.ControllerBase")
                {
                    return true;
                }

                if (current.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() is "Microsoft.AspNetCore.Mvc.ApiControllerAttribute" or "Microsoft.AspNetCore.Mvc.ControllerAttribute"))
                {
                    return true;
                }
            }

            return false;
        }

        private static (AccessKind Access, string Verb) AccessOf(IMethodSymbol method)
        {
            foreach (AttributeData attribute in method.GetAttributes())
            {
                switch (attribute.AttributeClass?.ToDisplayString())
                {
                    case "Microsoft.AspNetCore.Mvc.HttpGetAttribute":
                        return (AccessKind.Read, "GET");
                    case "Microsoft.AspNetCore.Mvc.HttpHeadAttribute":
                        return (AccessKind.Read, "HEAD");
                    case "Microsoft.AspNetCore.Mvc.HttpPostAttribute":
                        return (AccessKind.Write, "POST");
                    case "Microsoft.AspNetCore.Mvc.HttpPutAttribute":
                        return (AccessKind.Write, "PUT");
                    case "Microsoft.AspNetCore.Mvc.HttpPatchAttribute":
                        return (AccessKind.Write, "PATCH");
                    case "Microsoft.AspNetCore.Mvc.HttpDeleteAttribute":
                        return (AccessKind.Write, "DELETE");
                }
            }

            return (AccessKind.ByRequestMethod, "any method");
        }
    }
}
