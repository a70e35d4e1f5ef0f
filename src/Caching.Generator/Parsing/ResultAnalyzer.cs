using System.Linq;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Parsing
{
    /// <summary>Finds the value a handler's return type carries: T, Task&lt;T&gt;, Ok&lt;T&gt;, Results&lt;Ok&lt;T&gt;, ...&gt;, ActionResult&lt;T&gt;...</summary>
    internal static class ResultAnalyzer
    {
        public static ResultModel Analyze(ITypeSymbol returnType, EndpointKind kind, Compilation compilation)
        {
            ITypeSymbol type = returnType;
            if (type.SpecialType == SpecialType.System_Void)
            {
                return None;
            }

            if (type is INamedTypeSymbol named && IsTask(named))
            {
                if (named.TypeArguments.Length == 0)
                {
                    return None;
                }

                type = named.TypeArguments[0];
            }

            type = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
            if (!CanBeNamed(type, compilation))
            {
                // Anonymous or inaccessible types: cached as object, which System.Text.Json writes by runtime type.
                return new ResultModel("object", WritesText: false);
            }
            if (type.SpecialType == SpecialType.System_String)
            {
                return new ResultModel(TypeNames.FullyQualified(type), WritesText: true);
            }

            if (kind == EndpointKind.Controller)
            {
                if (type is INamedTypeSymbol { IsGenericType: true } actionResult && actionResult.OriginalDefinition.ToDisplayString() == "Microsoft.AspNetCore.Mvc.ActionResult<TValue>")
                {
                    ITypeSymbol value = actionResult.TypeArguments[0];
                    return new ResultModel(TypeNames.FullyQualified(value), WritesText: value.SpecialType == SpecialType.System_String);
                }

                if (Implements(type, "Microsoft.AspNetCore.Mvc.IActionResult"))
                {
                    // ObjectResult, IActionResult: the value's type is known only at run time.
                    return new ResultModel("object", WritesText: false);
                }
            }

            if (Implements(type, "Microsoft.AspNetCore.Http.IResult"))
            {
                ITypeSymbol? value = ValueOfHttpResult(type);
                if (value is null && type is INamedTypeSymbol union && union.ContainingNamespace?.ToDisplayString() == "Microsoft.AspNetCore.Http.HttpResults" && union.Name == "Results")
                {
                    // Results<Ok<T>, NotFound, BadRequest<string>>: the value worth caching is Ok's, whatever the order.
                    ITypeSymbol? ok = union.TypeArguments.FirstOrDefault(t => t.Name == "Ok" && t.ContainingNamespace?.ToDisplayString() == "Microsoft.AspNetCore.Http.HttpResults");
                    value = ok is not null ? ValueOfHttpResult(ok) : union.TypeArguments.Select(ValueOfHttpResult).FirstOrDefault(v => v is not null);
                }

                if (value is null)
                {
                    // IResult, Results.Text, NoContent...: what is cached is what the result writes, whatever it is.
                    return new ResultModel("object", WritesText: false);
                }

                return new ResultModel(CanBeNamed(value, compilation) ? TypeNames.FullyQualified(value) : "object", WritesText: false);
            }

            return new ResultModel(TypeNames.FullyQualified(type), WritesText: false);
        }

        private static bool CanBeNamed(ITypeSymbol type, Compilation compilation)
        {
            if (type.IsAnonymousType || !compilation.IsSymbolAccessibleWithin(type, compilation.Assembly))
            {
                return false;
            }

            return type is not INamedTypeSymbol named || named.TypeArguments.All(t => CanBeNamed(t, compilation));
        }

        public static ResultModel None { get; } = new(null, false);

        private static bool IsTask(INamedTypeSymbol type)
        {
            string ns = type.ContainingNamespace?.ToDisplayString() ?? string.Empty;
            return ns == "System.Threading.Tasks" && (type.Name == "Task" || type.Name == "ValueTask");
        }

        private static bool Implements(ITypeSymbol type, string interfaceName)
            => type.ToDisplayString() == interfaceName || type.AllInterfaces.Any(i => i.ToDisplayString() == interfaceName);

        private static ITypeSymbol? ValueOfHttpResult(ITypeSymbol type)
        {
            INamedTypeSymbol? valueResult = type.AllInterfaces.FirstOrDefault(i => i.IsGenericType && i.OriginalDefinition.ToDisplayString() == "Microsoft.AspNetCore.Http.IValueHttpResult<TValue>");
            return valueResult?.TypeArguments[0];
        }
    }

    /// <summary>How generated code spells types.</summary>
    internal static class TypeNames
    {
        private static readonly SymbolDisplayFormat WithNullability = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        /// <summary>global::Namespace.Type, without a nullable reference annotation (usable in typeof and as a type argument).</summary>
        public static string FullyQualified(ITypeSymbol type)
            => type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

        /// <summary>global::Namespace.Type with its nullable annotation, for locals and GetArgument.</summary>
        public static string FullyQualifiedWithNullability(ITypeSymbol type) => type.ToDisplayString(WithNullability);
    }
}
