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
        public static (RequestSource Source, string Name, string? ParseType, bool IsEnum) Describe(IParameterSymbol parameter)
        {
            RequestSource source = RequestSource.Inferred;
            string name = parameter.Name;
            foreach (AttributeData attribute in parameter.GetAttributes())
            {
                switch (attribute.AttributeClass?.Name)
                {
                    case "FromRouteAttribute":
                        source = RequestSource.Route;
                        name = NameArgument(attribute) ?? name;
                        break;
                    case "FromQueryAttribute":
                        source = RequestSource.Query;
                        name = NameArgument(attribute) ?? name;
                        break;
                    case string other when (other.StartsWith("From", System.StringComparison.Ordinal) && other.EndsWith("Attribute", System.StringComparison.Ordinal)) || other == "AsParametersAttribute":
                        return (RequestSource.Other, name, null, false); // body, form, header, services
                }
            }

            string? parseType = ParseType(parameter.Type, out bool isEnum);
            return parseType is null ? (RequestSource.Other, name, null, false) : (source, name, parseType, isEnum);
        }

        private static string? NameArgument(AttributeData attribute)
            => attribute.NamedArguments.FirstOrDefault(a => a.Key == "Name").Value.Value as string;

        // The types whose request text the hit path parses exactly as the binder does (RequestText has an
        // overload for each, and TryParseEnum for enums); null for any other.
        private static string? ParseType(ITypeSymbol type, out bool isEnum)
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

            return type.ToDisplayString() is "System.Guid" or "System.DateTimeOffset" or "System.DateOnly" or "System.TimeOnly" or "System.TimeSpan"
                ? type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
                : null;
        }
    }
}
