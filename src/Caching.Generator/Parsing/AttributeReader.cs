using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Caching.Generator.Parsing
{
    /// <summary>A string argument of [Cache] and the syntax that wrote it.</summary>
    internal sealed class AttributeString
    {
        public AttributeString(string value, SyntaxNode node)
        {
            Value = value;
            Node = node;
            Map = StringLiteralMap.For(node, value);
        }

        public string Value { get; }

        public SyntaxNode Node { get; }

        public StringLiteralMap Map { get; }
    }

    /// <summary>The values of one [Cache] attribute, with the syntax of each string for precise diagnostics.</summary>
    internal sealed class AttributeReader
    {
        public const string CacheAttributeName = "Caching.CacheAttribute";

        private AttributeReader(AttributeSyntax syntax)
        {
            Syntax = syntax;
        }

        public AttributeSyntax Syntax { get; }

        public AttributeString? KeyPrefix { get; private set; }

        /// <summary>The file path the compiler passes to the attribute's caller-info parameter.</summary>
        public string SourceFilePath { get; private set; } = string.Empty;

        /// <summary>The line the compiler passes to the attribute's caller-info parameter.</summary>
        public int SourceLineNumber { get; private set; }

        public AttributeString? ResourceIdName { get; private set; }

        public AttributeString? ResourceId { get; private set; }

        public int Expiration { get; private set; } = 3600;

        public SyntaxNode? ExpirationNode { get; private set; }

        /// <summary>The attribute's StaleIfError seconds; -1 when it takes the option.</summary>
        public int StaleIfError { get; private set; } = -1;

        /// <summary>The attribute's StaleWhileRevalidate seconds; -1 when it takes the option.</summary>
        public int StaleWhileRevalidate { get; private set; } = -1;

        /// <summary>The first stale window set below -1, with where it is written, for the diagnostic.</summary>
        public (string Name, int Seconds, SyntaxNode Node)? NegativeStaleWindow { get; private set; }

        public bool WriteThrough { get; private set; }

        public bool VaryByUser { get; private set; }

        public AttributeString? Namespace { get; private set; }

        public List<AttributeString> ToInvalidateExtra { get; } = new();

        public List<AttributeString> PatternToInvalidateExtra { get; } = new();

        public List<AttributeString> Tags { get; } = new();

        public List<AttributeString> InvalidateTags { get; } = new();

        public List<AttributeString> InvalidateNamespaces { get; } = new();

        /// <summary>Names of the settings that only mean something on writes, as written.</summary>
        public IEnumerable<string> WriteOnlySettings()
        {
            if (ToInvalidateExtra.Count > 0)
            {
                yield return "ToInvalidateExtra";
            }

            if (PatternToInvalidateExtra.Count > 0)
            {
                yield return "PatternToInvalidateExtra";
            }

            if (InvalidateTags.Count > 0)
            {
                yield return "InvalidateTags";
            }

            if (InvalidateNamespaces.Count > 0)
            {
                yield return "InvalidateNamespaces";
            }

            if (WriteThrough)
            {
                yield return "WriteThrough";
            }
        }

        public static AttributeData? Find(ISymbol symbol, KnownTypeSymbols known)
            => symbol.GetAttributes().FirstOrDefault(a => KnownTypeSymbols.Is(a.AttributeClass, known.CacheAttribute));

        public static AttributeReader? Read(AttributeData attribute, System.Threading.CancellationToken cancellationToken)
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax)
            {
                return null;
            }

            var reader = new AttributeReader(syntax);
            SeparatedSyntaxList<AttributeArgumentSyntax> arguments = syntax.ArgumentList?.Arguments ?? default;
            AttributeArgumentSyntax[] positional = arguments.Where(a => a.NameEquals is null).ToArray();
            ImmutableArray<TypedConstant> constructorArguments = attribute.ConstructorArguments;
            if (constructorArguments.Length >= 1 && constructorArguments[0].Value is string prefix && positional.Length > 0)
            {
                reader.KeyPrefix = new AttributeString(prefix, positional[0].Expression);
            }

            // The compiler fills the caller-info parameters; the runtime finds the endpoint's generated code by them.
            if (constructorArguments.Length >= 3 && constructorArguments[1].Value is string file && constructorArguments[2].Value is int line)
            {
                reader.SourceFilePath = file;
                reader.SourceLineNumber = line;
            }

            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
            {
                ExpressionSyntax? expression = arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == named.Key)?.Expression;
                if (expression is null)
                {
                    continue;
                }

                switch (named.Key)
                {
                    case "ResourceIdName" when named.Value.Value is string id:
                        reader.ResourceIdName = new AttributeString(id, expression);
                        break;
                    case "ResourceId" when named.Value.Value is string fixedId:
                        reader.ResourceId = new AttributeString(fixedId, expression);
                        break;
                    case "Expiration" when named.Value.Value is int seconds:
                        reader.Expiration = seconds;
                        reader.ExpirationNode = expression;
                        break;
                    case "StaleIfError" when named.Value.Value is int staleIfError:
                        reader.StaleIfError = staleIfError;
                        reader.NegativeStaleWindow ??= staleIfError < -1 ? ("StaleIfError", staleIfError, expression) : null;
                        break;
                    case "StaleWhileRevalidate" when named.Value.Value is int staleWhileRevalidate:
                        reader.StaleWhileRevalidate = staleWhileRevalidate;
                        reader.NegativeStaleWindow ??= staleWhileRevalidate < -1 ? ("StaleWhileRevalidate", staleWhileRevalidate, expression) : null;
                        break;
                    case "WriteThrough" when named.Value.Value is bool writeThrough:
                        reader.WriteThrough = writeThrough;
                        break;
                    case "VaryByUser" when named.Value.Value is bool vary:
                        reader.VaryByUser = vary;
                        break;
                    case "Namespace" when named.Value.Value is string space:
                        reader.Namespace = new AttributeString(space, expression);
                        break;
                    case "ToInvalidateExtra":
                        ReadArray(named.Value, expression, reader.ToInvalidateExtra);
                        break;
                    case "PatternToInvalidateExtra":
                        ReadArray(named.Value, expression, reader.PatternToInvalidateExtra);
                        break;
                    case "Tags":
                        ReadArray(named.Value, expression, reader.Tags);
                        break;
                    case "InvalidateTags":
                        ReadArray(named.Value, expression, reader.InvalidateTags);
                        break;
                    case "InvalidateNamespaces":
                        ReadArray(named.Value, expression, reader.InvalidateNamespaces);
                        break;
                }
            }

            return reader;
        }

        private static void ReadArray(TypedConstant constant, ExpressionSyntax expression, List<AttributeString> target)
        {
            if (constant.Kind != TypedConstantKind.Array || constant.IsNull)
            {
                return;
            }

            ImmutableArray<ExpressionSyntax> elements = Elements(expression);
            ImmutableArray<TypedConstant> values = constant.Values;
            for (int i = 0; i < values.Length; i++)
            {
                if (values[i].Value is string value)
                {
                    // Point at the element when the syntax lines up with the values, else at the whole array.
                    SyntaxNode node = elements.Length == values.Length ? elements[i] : expression;
                    target.Add(new AttributeString(value, node));
                }
            }
        }

        private static ImmutableArray<ExpressionSyntax> Elements(ExpressionSyntax expression)
        {
            switch (expression)
            {
                case CollectionExpressionSyntax collection when collection.Elements.All(e => e is ExpressionElementSyntax):
                    return collection.Elements.Cast<ExpressionElementSyntax>().Select(e => e.Expression).ToImmutableArray();
                case ArrayCreationExpressionSyntax { Initializer: { } initializer }:
                    return initializer.Expressions.ToImmutableArray();
                case ImplicitArrayCreationExpressionSyntax creation:
                    return creation.Initializer.Expressions.ToImmutableArray();
                default:
                    return ImmutableArray<ExpressionSyntax>.Empty;
            }
        }
    }
}
