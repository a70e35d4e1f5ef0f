using System.Collections.Generic;
using System.Globalization;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Caching.Generator.Parsing
{
    /// <summary>
    /// Maps characters of a string's value back to the source characters that wrote them, so a diagnostic can
    /// underline exactly the offending part of a template, escapes and verbatim strings included.
    /// </summary>
    internal sealed class StringLiteralMap
    {
        private readonly SyntaxNode _expression;
        private readonly int[]? _starts;
        private readonly int[]? _ends;

        private StringLiteralMap(SyntaxNode expression, int[]? starts, int[]? ends)
        {
            _expression = expression;
            _starts = starts;
            _ends = ends;
        }

        /// <summary>Builds the map; for anything but a plain string literal, every span falls back to the whole expression.</summary>
        public static StringLiteralMap For(SyntaxNode expression, string value)
        {
            if (expression is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression))
            {
                SyntaxToken token = literal.Token;
                var starts = new List<int>(value.Length);
                var ends = new List<int>(value.Length);
                if (TryMap(token, starts, ends) && starts.Count == value.Length)
                {
                    return new StringLiteralMap(expression, starts.ToArray(), ends.ToArray());
                }
            }

            return new StringLiteralMap(expression, null, null);
        }

        /// <summary>The source location of value characters [start, start + length).</summary>
        public LocationInfo Locate(int start, int length)
        {
            SyntaxTree tree = _expression.SyntaxTree;
            if (_starts is null || _ends is null || _starts.Length == 0)
            {
                return LocationInfo.From(tree, _expression.Span);
            }

            int first = Clamp(start);
            int last = Clamp(start + System.Math.Max(length, 1) - 1);
            return LocationInfo.From(tree, TextSpan.FromBounds(_starts[first], _ends[last]));
        }

        /// <summary>The whole expression.</summary>
        public LocationInfo Whole => LocationInfo.From(_expression.SyntaxTree, _expression.Span);

        private int Clamp(int index) => index < 0 ? 0 : index >= _starts!.Length ? _starts.Length - 1 : index;

        private static bool TryMap(SyntaxToken token, List<int> starts, List<int> ends)
        {
            string text = token.Text;
            int origin = token.SpanStart;
            if (text.StartsWith("\"\"\"", System.StringComparison.Ordinal))
            {
                // Single-line raw string: no escapes. Multi-line raw strings strip indentation: not mapped.
                int quotes = 0;
                while (quotes < text.Length && text[quotes] == '"')
                {
                    quotes++;
                }

                if (text.IndexOf('\n') >= 0)
                {
                    return false;
                }

                for (int i = quotes; i < text.Length - quotes; i++)
                {
                    starts.Add(origin + i);
                    ends.Add(origin + i + 1);
                }

                return true;
            }

            if (text.StartsWith("@\"", System.StringComparison.Ordinal))
            {
                for (int i = 2; i < text.Length - 1; i++)
                {
                    int width = text[i] == '"' ? 2 : 1;
                    starts.Add(origin + i);
                    ends.Add(origin + i + width);
                    i += width - 1;
                }

                return true;
            }

            if (!text.StartsWith("\"", System.StringComparison.Ordinal))
            {
                return false;
            }

            for (int i = 1; i < text.Length - 1; i++)
            {
                if (text[i] != '\\')
                {
                    starts.Add(origin + i);
                    ends.Add(origin + i + 1);
                    continue;
                }

                char kind = i + 1 < text.Length ? text[i + 1] : '\0';
                int width;
                int produced = 1;
                switch (kind)
                {
                    case 'u':
                        width = 6;
                        break;
                    case 'U':
                        width = 10;
                        produced = int.TryParse(text.Substring(i + 2, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int codePoint) && codePoint > 0xFFFF ? 2 : 1;
                        break;
                    case 'x':
                        width = 2;
                        while (width < 6 && i + width < text.Length - 1 && Uri.IsHexDigit(text[i + width]))
                        {
                            width++;
                        }

                        break;
                    default:
                        width = 2;
                        break;
                }

                for (int p = 0; p < produced; p++)
                {
                    starts.Add(origin + i);
                    ends.Add(origin + i + width);
                }

                i += width - 1;
            }

            return true;
        }

        private static class Uri
        {
            public static bool IsHexDigit(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }
    }
}
