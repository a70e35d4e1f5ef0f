using System.Linq;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Parsing
{
    /// <summary>Finds the value a handler's return type carries: T, Task&lt;T&gt;, Ok&lt;T&gt;, Results&lt;Ok&lt;T&gt;, ...&gt;, ActionResult&lt;T&gt;...</summary>
    internal static class ResultAnalyzer
    {
        public static ResultModel Analyze(ITypeSymbol returnType, EndpointKind kind, KnownTypeSymbols known)
        {
            ITypeSymbol type = returnType;
            if (type.SpecialType == SpecialType.System_Void)
            {
                return None;
            }

            if (type is INamedTypeSymbol named && IsTask(named, known))
            {
                if (named.TypeArguments.Length == 0)
                {
                    return None;
                }

                type = named.TypeArguments[0];
            }

            type = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
            if (!CanBeNamed(type, known.Compilation))
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
                if (type is INamedTypeSymbol { IsGenericType: true } actionResult && KnownTypeSymbols.Is(actionResult, known.ActionResultOfT))
                {
                    ITypeSymbol value = actionResult.TypeArguments[0];
                    return new ResultModel(TypeNames.FullyQualified(value), WritesText: value.SpecialType == SpecialType.System_String);
                }

                if (KnownTypeSymbols.IsOrImplements(type, known.IActionResult))
                {
                    // ObjectResult, IActionResult: the value's type is known only at run time.
                    return new ResultModel("object", WritesText: false);
                }
            }

            if (KnownTypeSymbols.IsOrImplements(type, known.IResult))
            {
                ITypeSymbol? value = ValueOfHttpResult(type, known);
                if (value is null && type is INamedTypeSymbol union && union.Name == "Results" && known.OkOfT is not null && SymbolEqualityComparer.Default.Equals(union.ContainingNamespace, known.OkOfT.ContainingNamespace))
                {
                    // Results<Ok<T>, NotFound, BadRequest<string>>: the value worth caching is Ok's, whatever the order.
                    ITypeSymbol? ok = union.TypeArguments.FirstOrDefault(t => KnownTypeSymbols.Is(t, known.OkOfT));
                    value = ok is not null ? ValueOfHttpResult(ok, known) : union.TypeArguments.Select(t => ValueOfHttpResult(t, known)).FirstOrDefault(v => v is not null);
                }

                if (value is null)
                {
                    // IResult, Results.Text, NoContent...: what is cached is what the result writes, whatever it is.
                    return new ResultModel("object", WritesText: false);
                }

                return new ResultModel(CanBeNamed(value, known.Compilation) ? TypeNames.FullyQualified(value) : "object", WritesText: false);
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

        private static bool IsTask(INamedTypeSymbol type, KnownTypeSymbols known)
            => KnownTypeSymbols.Is(type, known.Task) || KnownTypeSymbols.Is(type, known.TaskOfT) || KnownTypeSymbols.Is(type, known.ValueTask) || KnownTypeSymbols.Is(type, known.ValueTaskOfT);

        private static ITypeSymbol? ValueOfHttpResult(ITypeSymbol type, KnownTypeSymbols known)
            => KnownTypeSymbols.FindInterface(type, known.IValueHttpResultOfT)?.TypeArguments[0];
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
