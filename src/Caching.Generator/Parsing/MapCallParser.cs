using System.Linq;
using System.Threading;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Caching.Generator.Parsing
{
    /// <summary>Finds Map{Get,Post,Put,Patch,Delete,Methods} calls whose handler carries [Cache].</summary>
    internal static class MapCallParser
    {
        /// <summary>Cheap syntax test: an invocation of a member named like a Map* method with a handler argument.</summary>
        public static bool IsCandidate(SyntaxNode node, CancellationToken cancellationToken)
        {
            return node is InvocationExpressionSyntax
            {
                Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: var name },
                ArgumentList.Arguments.Count: >= 2,
            } && IsMapMethodName(name);
        }

        public static bool IsMapMethodName(string name)
            => name is "MapGet" or "MapPost" or "MapPut" or "MapPatch" or "MapDelete" or "MapMethods";

        /// <summary>The generator's entry: the candidate call in its semantic model.</summary>
        public static ParseResult? Parse(GeneratorSyntaxContext context, CancellationToken cancellationToken)
            => Parse((InvocationExpressionSyntax)context.Node, context.SemanticModel, cancellationToken);

        /// <summary>
        /// Parses a Map* call whose handler carries [Cache]; null when the call is none. Shared by the generator and
        /// the analyzer, so both read a template the same way.
        /// </summary>
        public static ParseResult? Parse(InvocationExpressionSyntax invocation, SemanticModel semantic, CancellationToken cancellationToken)
        {
            KnownTypeSymbols known = KnownTypeSymbols.For(semantic.Compilation);
            if (!TryGetMapMethod(invocation, semantic, known, cancellationToken, out IMethodSymbol? reduced, out IMethodSymbol? method))
            {
                return null;
            }

            ExpressionSyntax? handlerExpression = HandlerArgument(invocation, reduced!);
            if (handlerExpression is null || HandlerSymbol(handlerExpression, semantic, known, cancellationToken) is not { } handler)
            {
                return null;
            }

            AttributeData? attributeData = AttributeReader.Find(handler, known);
            if (attributeData is null || AttributeReader.Read(attributeData, cancellationToken) is not { } attribute)
            {
                return null;
            }

            InterceptableLocation? location = semantic.GetInterceptableLocation(invocation, cancellationToken);
            if (location is null)
            {
                return null;
            }

            LocationInfo callLocation = LocationInfo.From(invocation.SyntaxTree, ((MemberAccessExpressionSyntax)invocation.Expression).Name.Span);
            var interception = new InterceptionModel(
                location.Version,
                location.Data,
                callLocation.Display,
                method!.Name,
                TypeNames.FullyQualified(method.ContainingType),
                TypeNames.FullyQualified(method.ReturnType),
                method.Parameters.Select(p => TypeNames.FullyQualified(p.Type)).ToEquatableArray());

            (AccessKind access, string verb) = AccessOf(method.Name, invocation, reduced!, semantic, cancellationToken);
            string route = RouteText(invocation, reduced!);
            string description = method.Name + "(" + route + ") at " + callLocation.Display;
            ParseResult result = EndpointFactory.Create(attribute, handler, EndpointKind.MinimalApi, access, verb, description, interception, null, known);
            return handlerExpression is LambdaExpressionSyntax
                ? result
                : result with { HandlerMethodId = handler.OriginalDefinition.GetDocumentationCommentId() ?? handler.ToDisplayString() };
        }

        /// <summary>Whether a lambda is the handler argument of a Map* call that this parser handles.</summary>
        public static bool IsHandlerOfMapCall(SyntaxNode lambda, SemanticModel semantic, CancellationToken cancellationToken)
        {
            SyntaxNode? node = lambda.Parent;
            while (node is ParenthesizedExpressionSyntax or CastExpressionSyntax)
            {
                node = node.Parent;
            }

            if (node is not ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax invocation } } argument
                || !IsCandidate(invocation, cancellationToken)
                || !TryGetMapMethod(invocation, semantic, KnownTypeSymbols.For(semantic.Compilation), cancellationToken, out IMethodSymbol? reduced, out _))
            {
                return false;
            }

            // HandlerArgument strips parentheses and casts, as the walk up from the lambda did.
            ExpressionSyntax? handler = HandlerArgument(invocation, reduced!);
            return handler == lambda;
        }

        private static bool TryGetMapMethod(InvocationExpressionSyntax invocation, SemanticModel semantic, KnownTypeSymbols known, CancellationToken cancellationToken, out IMethodSymbol? reduced, out IMethodSymbol? method)
        {
            reduced = semantic.GetSymbolInfo(invocation, cancellationToken).Symbol as IMethodSymbol;
            method = reduced?.ReducedFrom ?? reduced;
            return method is not null
                && KnownTypeSymbols.Is(method.ContainingType, known.EndpointRouteBuilderExtensions)
                && IsMapMethodName(method.Name)
                && method.Parameters.Length > 0
                && KnownTypeSymbols.Is(method.Parameters[method.Parameters.Length - 1].Type, known.Delegate);
        }

        private static ExpressionSyntax? HandlerArgument(InvocationExpressionSyntax invocation, IMethodSymbol reduced)
        {
            ArgumentSyntax? named = invocation.ArgumentList.Arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == "handler");
            if (named is not null)
            {
                return Unwrap(named.Expression);
            }

            int index = reduced.Parameters.Length - 1;
            return index < invocation.ArgumentList.Arguments.Count ? Unwrap(invocation.ArgumentList.Arguments[index].Expression) : null;
        }

        private static ExpressionSyntax Unwrap(ExpressionSyntax expression)
        {
            while (true)
            {
                switch (expression)
                {
                    case ParenthesizedExpressionSyntax parenthesized:
                        expression = parenthesized.Expression;
                        continue;
                    case CastExpressionSyntax cast:
                        expression = cast.Expression;
                        continue;
                    default:
                        return expression;
                }
            }
        }

        private static IMethodSymbol? HandlerSymbol(ExpressionSyntax expression, SemanticModel semantic, KnownTypeSymbols known, CancellationToken cancellationToken)
        {
            SymbolInfo info = semantic.GetSymbolInfo(expression, cancellationToken);
            return info.Symbol as IMethodSymbol ?? info.CandidateSymbols.OfType<IMethodSymbol>().FirstOrDefault(m => AttributeReader.Find(m, known) is not null);
        }

        private static (AccessKind Access, string Verb) AccessOf(string methodName, InvocationExpressionSyntax invocation, IMethodSymbol reduced, SemanticModel semantic, CancellationToken cancellationToken)
        {
            switch (methodName)
            {
                case "MapGet":
                    return (AccessKind.Read, "GET");
                case "MapPost":
                    return (AccessKind.Write, "POST");
                case "MapPut":
                    return (AccessKind.Write, "PUT");
                case "MapPatch":
                    return (AccessKind.Write, "PATCH");
                case "MapDelete":
                    return (AccessKind.Write, "DELETE");
            }

            // MapMethods(pattern, httpMethods, handler): read the methods when they are constants.
            int methodsIndex = reduced.Parameters.Length - 2;
            if (methodsIndex < 0 || methodsIndex >= invocation.ArgumentList.Arguments.Count)
            {
                return (AccessKind.ByRequestMethod, "MapMethods");
            }

            ExpressionSyntax methods = invocation.ArgumentList.Arguments[methodsIndex].Expression;
            var values = methods.DescendantNodesAndSelf()
                .OfType<ExpressionSyntax>()
                .Where(e => e is LiteralExpressionSyntax || e is MemberAccessExpressionSyntax)
                .Select(e => semantic.GetConstantValue(e, cancellationToken))
                .Where(c => c.HasValue && c.Value is string)
                .Select(c => ((string)c.Value!).ToUpperInvariant())
                .ToArray();
            if (values.Length == 0)
            {
                return (AccessKind.ByRequestMethod, "MapMethods");
            }

            bool reads = values.All(v => v == "GET" || v == "HEAD");
            bool writes = values.All(v => v != "GET" && v != "HEAD");
            return reads ? (AccessKind.Read, string.Join("/", values)) : writes ? (AccessKind.Write, string.Join("/", values)) : (AccessKind.ByRequestMethod, string.Join("/", values));
        }

        private static string RouteText(InvocationExpressionSyntax invocation, IMethodSymbol reduced)
        {
            ArgumentSyntax? pattern = invocation.ArgumentList.Arguments.FirstOrDefault();
            return pattern?.Expression is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression)
                ? literal.Token.Text
                : "...";
        }
    }
}
