using System.Collections.Generic;
using System.Linq;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Parsing
{
    /// <summary>
    /// Where a minimal-API handler parameter's value comes from, as far as a key formed before binding needs to
    /// know: the route or the query string, by which name, and whether the runtime's <c>Caching.Keys.RequestText</c>
    /// parses its text the way the binder parses it (same method, styles and culture).
    /// </summary>
    internal static class RequestBinding
    {
        public static (RequestSource Source, string Name, string? ParseType, bool IsEnum) Describe(IParameterSymbol parameter, KnownTypeSymbols known)
        {
            RequestSource source = RequestSource.Inferred;
            string name = parameter.Name;
            foreach (AttributeData attribute in parameter.GetAttributes())
            {
                switch (known.Classify(attribute))
                {
                    case BindingAttribute.Route:
                        source = RequestSource.Route;
                        name = NameArgument(attribute) ?? name;
                        break;
                    case BindingAttribute.Query:
                        source = RequestSource.Query;
                        name = NameArgument(attribute) ?? name;
                        break;
                    case BindingAttribute.None:
                        break;
                    default:
                        return (RequestSource.Other, name, null, false); // body, form, header, services, [AsParameters]
                }
            }

            string? parseType = ParseType(parameter.Type, known, out bool isEnum);
            return parseType is null ? (RequestSource.Other, name, null, false) : (source, name, parseType, isEnum);
        }

        /// <summary>
        /// The values a parameter takes from the request, classified as ASP.NET Core's minimal-API binder classifies
        /// them: each with the path a key template names it by (<c>page</c>, <c>args.Page</c>) and where it comes from.
        /// Services, <c>HttpContext</c>, <c>HttpRequest</c>, <c>HttpResponse</c>, <c>CancellationToken</c>,
        /// <c>ClaimsPrincipal</c> and complex types without an attribute (services on a GET) yield nothing.
        /// </summary>
        public static IEnumerable<RequestDependentValue> RequestValues(IParameterSymbol parameter, KnownTypeSymbols known)
            => Classify(parameter.Name, parameter.Type, parameter.GetAttributes(), nested: false, known);

        private static IEnumerable<RequestDependentValue> Classify(string path, ITypeSymbol type, IEnumerable<AttributeData> attributes, bool nested, KnownTypeSymbols known)
        {
            foreach (AttributeData attribute in attributes)
            {
                switch (known.Classify(attribute))
                {
                    case BindingAttribute.Route:
                        return new[] { new RequestDependentValue(path, "the route value '" + (NameArgument(attribute) ?? Leaf(path)) + "'") };
                    case BindingAttribute.Query:
                        return new[] { new RequestDependentValue(path, "the query value '" + (NameArgument(attribute) ?? Leaf(path)) + "'") };
                    case BindingAttribute.Header:
                        return new[] { new RequestDependentValue(path, "the header '" + (NameArgument(attribute) ?? Leaf(path)) + "'") };
                    case BindingAttribute.Form:
                        return new[] { new RequestDependentValue(path, "the form") };
                    case BindingAttribute.Body:
                        return new[] { new RequestDependentValue(path, "the body") };
                    case BindingAttribute.Services:
                        return Enumerable.Empty<RequestDependentValue>();
                    case BindingAttribute.AsParameters:
                        return nested ? Enumerable.Empty<RequestDependentValue>() : AsParametersMembers(path, type, known);
                }
            }

            ITypeSymbol plain = Unwrap(type);
            if (KnownTypeSymbols.Is(plain, known.HttpContext) || KnownTypeSymbols.Is(plain, known.HttpRequest) || KnownTypeSymbols.Is(plain, known.HttpResponse)
                || KnownTypeSymbols.Is(plain, known.CancellationToken) || KnownTypeSymbols.Is(plain, known.ClaimsPrincipal))
            {
                return Enumerable.Empty<RequestDependentValue>(); // HttpContext and HttpRequest: CACHE017
            }

            if (KnownTypeSymbols.Is(plain, known.IFormFile) || KnownTypeSymbols.Is(plain, known.IFormFileCollection) || KnownTypeSymbols.Is(plain, known.IFormCollection))
            {
                return new[] { new RequestDependentValue(path, "the form") };
            }

            if (KnownTypeSymbols.Is(plain, known.Stream) || KnownTypeSymbols.Is(plain, known.PipeReader))
            {
                return new[] { new RequestDependentValue(path, "the body") };
            }

            if (KnownTypeSymbols.Is(plain, known.StringValues))
            {
                return new[] { new RequestDependentValue(path, "the query string") };
            }

            if (HasBindAsync(plain, known))
            {
                return new[] { new RequestDependentValue(path, "its type's BindAsync, which reads the request") };
            }

            ITypeSymbol element = plain is IArrayTypeSymbol array ? Unwrap(array.ElementType) : plain;
            if (element.SpecialType == SpecialType.System_String || element.TypeKind == TypeKind.Enum || HasTryParse(element, known))
            {
                return new[] { new RequestDependentValue(path, plain is IArrayTypeSymbol ? "the query string" : "the route or the query string") };
            }

            return Enumerable.Empty<RequestDependentValue>(); // a service (a complex type on a GET is never an inferred body)
        }

        // [AsParameters]: each public constructor parameter (of the constructor with the most parameters) or
        // settable property binds as a parameter of that name would, with its own attributes.
        private static IEnumerable<RequestDependentValue> AsParametersMembers(string path, ITypeSymbol type, KnownTypeSymbols known)
        {
            if (Unwrap(type) is not INamedTypeSymbol named)
            {
                yield break;
            }

            IMethodSymbol? constructor = named.InstanceConstructors
                .Where(c => c.DeclaredAccessibility == Accessibility.Public && c.Parameters.Length > 0)
                .OrderByDescending(c => c.Parameters.Length)
                .FirstOrDefault();
            var properties = named.GetMembers().OfType<IPropertySymbol>()
                .Where(p => !p.IsStatic && p.DeclaredAccessibility == Accessibility.Public && p.Parameters.Length == 0)
                .ToList();
            var seen = new HashSet<string>(System.StringComparer.OrdinalIgnoreCase);
            if (constructor is not null)
            {
                foreach (IParameterSymbol parameter in constructor.Parameters)
                {
                    IPropertySymbol? property = properties.FirstOrDefault(p => string.Equals(p.Name, parameter.Name, System.StringComparison.OrdinalIgnoreCase));
                    seen.Add(parameter.Name);
                    IEnumerable<AttributeData> attributes = parameter.GetAttributes().Concat(property?.GetAttributes() ?? Enumerable.Empty<AttributeData>());
                    foreach (RequestDependentValue value in Classify(path + "." + (property?.Name ?? parameter.Name), parameter.Type, attributes, nested: true, known))
                    {
                        yield return value;
                    }
                }
            }

            foreach (IPropertySymbol property in properties.Where(p => p.SetMethod is { DeclaredAccessibility: Accessibility.Public } && !seen.Contains(p.Name)))
            {
                foreach (RequestDependentValue value in Classify(path + "." + property.Name, property.Type, property.GetAttributes(), nested: true, known))
                {
                    yield return value;
                }
            }
        }

        private static bool HasTryParse(ITypeSymbol type, KnownTypeSymbols known)
        {
            if (type.SpecialType is >= SpecialType.System_Boolean and <= SpecialType.System_Double || type.SpecialType == SpecialType.System_DateTime)
            {
                return true;
            }

            return StaticMethods(type, "TryParse").Any(m =>
                m.ReturnType.SpecialType == SpecialType.System_Boolean
                && m.Parameters.Length is 2 or 3
                && m.Parameters[0].Type.SpecialType == SpecialType.System_String
                && m.Parameters[m.Parameters.Length - 1].RefKind == RefKind.Out
                && SymbolEqualityComparer.Default.Equals(m.Parameters[m.Parameters.Length - 1].Type, type)
                && (m.Parameters.Length == 2 || KnownTypeSymbols.Is(m.Parameters[1].Type, known.IFormatProvider)));
        }

        private static bool HasBindAsync(ITypeSymbol type, KnownTypeSymbols known)
            => StaticMethods(type, "BindAsync").Any(m =>
                m.Parameters.Length is 1 or 2
                && KnownTypeSymbols.Is(m.Parameters[0].Type, known.HttpContext)
                && (m.Parameters.Length == 1 || KnownTypeSymbols.Is(m.Parameters[1].Type, known.ParameterInfo))
                && KnownTypeSymbols.Is(m.ReturnType, known.ValueTaskOfT));

        private static IEnumerable<IMethodSymbol> StaticMethods(ITypeSymbol type, string name)
        {
            for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
            {
                foreach (IMethodSymbol method in current.GetMembers(name).OfType<IMethodSymbol>().Where(m => m.IsStatic && m.DeclaredAccessibility == Accessibility.Public))
                {
                    yield return method;
                }
            }
        }

        private static ITypeSymbol Unwrap(ITypeSymbol type)
            => type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable ? nullable.TypeArguments[0] : type;

        private static string Leaf(string path) => path.Substring(path.LastIndexOf('.') + 1);

        private static string? NameArgument(AttributeData attribute)
            => attribute.NamedArguments.FirstOrDefault(a => a.Key == "Name").Value.Value as string;

        // The types whose request text the hit path parses exactly as the binder does (RequestText has an
        // overload for each, and TryParseEnum for enums); null for any other.
        private static string? ParseType(ITypeSymbol type, KnownTypeSymbols known, out bool isEnum)
        {
            isEnum = false;
            if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
            {
                type = nullable.TypeArguments[0];
            }

            switch (type.SpecialType)
            {
                case SpecialType.System_String:
                    return "string";
                case SpecialType.System_Boolean:
                case SpecialType.System_Char:
                case SpecialType.System_SByte:
                case SpecialType.System_Byte:
                case SpecialType.System_Int16:
                case SpecialType.System_UInt16:
                case SpecialType.System_Int32:
                case SpecialType.System_UInt32:
                case SpecialType.System_Int64:
                case SpecialType.System_UInt64:
                case SpecialType.System_Decimal:
                case SpecialType.System_Single:
                case SpecialType.System_Double:
                case SpecialType.System_DateTime:
                    return type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            }

            if (type.TypeKind == TypeKind.Enum)
            {
                isEnum = true;
                return type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            }

            return KnownTypeSymbols.Is(type, known.Guid) || KnownTypeSymbols.Is(type, known.DateTimeOffset) || KnownTypeSymbols.Is(type, known.DateOnly) || KnownTypeSymbols.Is(type, known.TimeOnly) || KnownTypeSymbols.Is(type, known.TimeSpan)
                ? type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
                : null;
        }
    }

    /// <summary>A value a parameter takes from the request: the path a template names it by, and where it comes from.</summary>
    internal sealed class RequestDependentValue
    {
        public RequestDependentValue(string path, string source)
        {
            Path = path;
            Source = source;
        }

        public string Path { get; }

        public string Source { get; }
    }
}
