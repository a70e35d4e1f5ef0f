using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Caching.Generator.Diagnostics;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Parsing
{
    /// <summary>What a template is used for: it decides which characters are allowed in its literal text.</summary>
    internal enum TemplateKind
    {
        /// <summary>A key or key prefix: glob characters are an error.</summary>
        Key,

        /// <summary>A glob pattern: literal text is glob syntax.</summary>
        Pattern,

        /// <summary>A tag or namespace name.</summary>
        Name,
    }

    /// <summary>A handler parameter during parsing (symbols never leave the transform).</summary>
    internal sealed class BindableParameter
    {
        public BindableParameter(string name, int index, ITypeSymbol type)
        {
            Name = name;
            Index = index;
            Type = type;
        }

        public string Name { get; }

        public int Index { get; }

        public ITypeSymbol Type { get; }
    }

    /// <summary>Parses templates such as <c>user_{userId}_posts</c> and binds their placeholders to handler parameters.</summary>
    internal sealed class TemplateBinder
    {
        private readonly ImmutableArray<BindableParameter> _parameters;
        private readonly List<DiagnosticInfo> _diagnostics;
        private readonly KnownTypeSymbols _known;

        public TemplateBinder(ImmutableArray<BindableParameter> parameters, List<DiagnosticInfo> diagnostics, KnownTypeSymbols known)
        {
            _parameters = parameters;
            _diagnostics = diagnostics;
            _known = known;
        }

        /// <summary>Parses and binds one template; returns null (with diagnostics) when it is not valid.</summary>
        public TemplateModel? Bind(string template, StringLiteralMap map, TemplateKind kind)
        {
            int errorsBefore = ErrorCount();
            var parts = new List<TemplatePart>();
            var literal = new StringBuilder();
            bool globReported = false;
            int i = 0;
            while (i < template.Length)
            {
                char c = template[i];
                if (c == '{' && i + 1 < template.Length && template[i + 1] == '{')
                {
                    literal.Append('{');
                    i += 2;
                    continue;
                }

                if (c == '}' && i + 1 < template.Length && template[i + 1] == '}')
                {
                    literal.Append('}');
                    i += 2;
                    continue;
                }

                if (c == '}')
                {
                    Report(DiagnosticDescriptors.MalformedTemplate, map.Locate(i, 1), template, "'}' has no matching '{' (write '}}' for a literal brace)");
                    i++;
                    continue;
                }

                if (c != '{')
                {
                    if (kind == TemplateKind.Key && IsGlob(c) && !globReported)
                    {
                        Report(DiagnosticDescriptors.GlobInKeyTemplate, map.Locate(i, 1), c.ToString(), template);
                        globReported = true;
                    }

                    literal.Append(c);
                    i++;
                    continue;
                }

                int close = template.IndexOf('}', i + 1);
                int nextOpen = template.IndexOf('{', i + 1);
                if (close < 0 || (nextOpen >= 0 && nextOpen < close))
                {
                    Report(DiagnosticDescriptors.MalformedTemplate, map.Locate(i, 1), template, "'{' is never closed (write '{{' for a literal brace)");
                    i++;
                    continue;
                }

                string path = template.Substring(i + 1, close - i - 1);
                if (path.Trim().Length == 0)
                {
                    Report(DiagnosticDescriptors.MalformedTemplate, map.Locate(i, close - i + 1), template, "a placeholder is empty; write a parameter name between the braces");
                    i = close + 1;
                    continue;
                }

                if (literal.Length > 0)
                {
                    parts.Add(new TemplatePart(literal.ToString(), -1, string.Empty));
                    literal.Clear();
                }

                TemplatePart? bound = BindPath(path, i + 1, map);
                if (bound is not null)
                {
                    parts.Add(bound);
                    WarnIfAmbiguous(template, close + 1, path, map, i, kind);
                }

                i = close + 1;
            }

            if (literal.Length > 0)
            {
                parts.Add(new TemplatePart(literal.ToString(), -1, string.Empty));
            }

            if (kind == TemplateKind.Pattern && ErrorCount() == errorsBefore && !HasWildcard(parts))
            {
                // The Python decorator appends '*' to every pattern; keys are "prefix:id", so after a placeholder
                // the likely family is "{value}:*".
                bool endsWithValue = parts.Count > 0 && !parts[parts.Count - 1].IsLiteral;
                Report(DiagnosticDescriptors.PatternWithoutWildcard, map.Whole, template, template + (endsWithValue ? ":*" : "*"));
            }

            return ErrorCount() > errorsBefore ? null : new TemplateModel(template, parts.ToEquatableArray());
        }

        // Whether the literal text has an unescaped * ? or [ (a backslash escapes the next character).
        private static bool HasWildcard(List<TemplatePart> parts)
        {
            foreach (TemplatePart part in parts.Where(p => p.IsLiteral))
            {
                for (int i = 0; i < part.Literal.Length; i++)
                {
                    char c = part.Literal[i];
                    if (c == '\\')
                    {
                        i++;
                    }
                    else if (c == '*' || c == '?' || c == '[')
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        /// <summary>Binds a path such as <c>update.CategoryId</c> (as in ResourceIdName) that is not inside braces.</summary>
        public TemplatePart? BindPath(string path, int offset, StringLiteralMap map)
        {
            string[] segments = path.Split('.');
            int position = offset;
            foreach (string segment in segments)
            {
                if (!IsIdentifier(segment))
                {
                    Report(DiagnosticDescriptors.MalformedTemplate, map.Locate(offset, path.Length), path, "'" + path + "' is not a parameter name or a member path such as update.CategoryId");
                    return null;
                }
            }

            BindableParameter? parameter = _parameters.FirstOrDefault(p => p.Name == segments[0]);
            if (parameter is null)
            {
                string suggestion = Suggest(segments[0], _parameters.Select(p => p.Name));
                Report(DiagnosticDescriptors.UnknownPlaceholder, map.Locate(offset, segments[0].Length), path, "a parameter of the handler", suggestion);
                return null;
            }

            ITypeSymbol type = parameter.Type;
            var access = new StringBuilder();
            position += segments[0].Length + 1;
            for (int s = 1; s < segments.Length; s++)
            {
                string name = segments[s];
                bool nullable = type.IsReferenceType || IsNullableValueType(type);
                ITypeSymbol lookup = UnwrapNullable(type);
                ISymbol? member = FindMember(lookup, name);
                if (member is null)
                {
                    string suggestion = Suggest(name, ReadableMembers(lookup).Select(m => m.Name));
                    Report(DiagnosticDescriptors.UnknownPlaceholder, map.Locate(position, name.Length), path, "a member of '" + lookup.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat) + "'", suggestion);
                    return null;
                }

                access.Append(nullable ? "?." : ".").Append(member.Name);
                type = member is IPropertySymbol property ? property.Type : ((IFieldSymbol)member).Type;
                position += name.Length + 1;
            }

            if (!HasInvariantText(type, _known))
            {
                Report(DiagnosticDescriptors.NoInvariantText, map.Locate(offset, path.Length), path, type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat));
                return null;
            }

            return new TemplatePart(string.Empty, parameter.Index, access.ToString());
        }

        public static bool IsGlob(char c) => c == '*' || c == '?' || c == '[' || c == ']' || c == '\\';

        // Encoded values consist of ASCII letters, digits, '-', '.', '%' and '~': a placeholder followed by one of
        // those (or by a wildcard, in a pattern) cannot be told apart from a longer value.
        private void WarnIfAmbiguous(string template, int after, string path, StringLiteralMap map, int start, TemplateKind kind)
        {
            if (after >= template.Length)
            {
                return;
            }

            char next = template[after];
            bool joins = next == '{' && !(after + 1 < template.Length && template[after + 1] == '{');
            bool valueChar = char.IsLetterOrDigit(next) && next < 128 || next == '-' || next == '.' || next == '%' || next == '~';
            bool wildcard = kind == TemplateKind.Pattern && (next == '*' || next == '?' || next == '[');
            if (joins || valueChar || wildcard)
            {
                Report(DiagnosticDescriptors.AmbiguousTemplate, map.Locate(start, after - start + 1), path, next.ToString());
            }
        }

        private void Report(DiagnosticDescriptor descriptor, LocationInfo location, params string[] arguments)
            => _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));

        private int ErrorCount() => _diagnostics.Count(d => DiagnosticDescriptors.ById(d.DescriptorId).DefaultSeverity == DiagnosticSeverity.Error);

        private static bool IsIdentifier(string text)
        {
            if (text.Length == 0 || !(char.IsLetter(text[0]) || text[0] == '_'))
            {
                return false;
            }

            return text.All(c => char.IsLetterOrDigit(c) || c == '_');
        }

        private static bool IsNullableValueType(ITypeSymbol type)
            => type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };

        private static ITypeSymbol UnwrapNullable(ITypeSymbol type)
            => IsNullableValueType(type) ? ((INamedTypeSymbol)type).TypeArguments[0] : type;

        private static IEnumerable<ISymbol> ReadableMembers(ITypeSymbol type)
        {
            IEnumerable<ITypeSymbol> types = type.TypeKind == TypeKind.Interface
                ? new[] { type }.Concat(type.AllInterfaces)
                : BaseTypes(type);
            return types
                .SelectMany(t => t.GetMembers())
                .Where(m => !m.IsStatic && m.DeclaredAccessibility == Accessibility.Public && (m is IPropertySymbol { GetMethod: not null, Parameters.Length: 0 } || m is IFieldSymbol));
        }

        private static IEnumerable<ITypeSymbol> BaseTypes(ITypeSymbol type)
        {
            for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
            {
                yield return current;
            }
        }

        private static ISymbol? FindMember(ITypeSymbol type, string name) => ReadableMembers(type).FirstOrDefault(m => m.Name == name);

        private static bool HasInvariantText(ITypeSymbol type, KnownTypeSymbols known)
        {
            type = UnwrapNullable(type);
            switch (type.SpecialType)
            {
                case SpecialType.System_String:
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
                case SpecialType.System_Single:
                case SpecialType.System_Double:
                case SpecialType.System_Decimal:
                case SpecialType.System_DateTime:
                    return true;
            }

            if (type.TypeKind == TypeKind.Enum)
            {
                return true;
            }

            return KnownTypeSymbols.IsOrImplements(type, known.IFormattable);
        }

        /// <summary>" (did you mean 'userId'?)" when a name is close enough, else "".</summary>
        internal static string Suggest(string name, IEnumerable<string> candidates)
        {
            string? best = null;
            int bestDistance = int.MaxValue;
            foreach (string candidate in candidates.Distinct())
            {
                int distance = string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase) ? 0 : Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
                if (distance < bestDistance)
                {
                    best = candidate;
                    bestDistance = distance;
                }
            }

            return best is not null && bestDistance <= System.Math.Max(2, name.Length / 3) ? " (did you mean '" + best + "'?)" : string.Empty;
        }

        private static int Distance(string a, string b)
        {
            var previous = new int[b.Length + 1];
            var current = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++)
            {
                previous[j] = j;
            }

            for (int i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (int j = 1; j <= b.Length; j++)
                {
                    int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                    current[j] = System.Math.Min(System.Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                }

                (previous, current) = (current, previous);
            }

            return previous[b.Length];
        }
    }
}
