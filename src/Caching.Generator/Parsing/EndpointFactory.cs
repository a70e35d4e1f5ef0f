using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Caching.Generator.Diagnostics;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Parsing
{
    /// <summary>Turns a [Cache] attribute on a handler into an <see cref="EndpointModel"/>, or into diagnostics.</summary>
    internal static class EndpointFactory
    {
        public static ParseResult Create(
            AttributeReader attribute,
            IMethodSymbol handler,
            EndpointKind kind,
            AccessKind access,
            string verb,
            string description,
            InterceptionModel? interception,
            ControllerActionModel? action,
            KnownTypeSymbols known)
        {
            var diagnostics = new List<DiagnosticInfo>();
            LocationInfo attributeLocation = LocationInfo.From(attribute.Syntax.SyntaxTree, attribute.Syntax.Span);
            ImmutableArray<BindableParameter> parameters = handler.Parameters
                .Select(p => new BindableParameter(p.Name, p.Ordinal, p.Type))
                .ToImmutableArray();
            var binder = new TemplateBinder(parameters, diagnostics, known);

            if (attribute.Expiration <= 0)
            {
                LocationInfo where = attribute.ExpirationNode is null ? attributeLocation : LocationInfo.From(attribute.ExpirationNode.SyntaxTree, attribute.ExpirationNode.Span);
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NonPositiveExpiration, where, attribute.Expiration.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            if (attribute.NegativeStaleWindow is { } negative)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NegativeStaleWindow, LocationInfo.From(negative.Node.SyntaxTree, negative.Node.Span), negative.Name, negative.Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            if (access == AccessKind.Read)
            {
                foreach (string setting in attribute.WriteOnlySettings())
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidationOnRead, attributeLocation, setting, verb));
                }
            }

            ResultModel result = ResultAnalyzer.Analyze(handler.ReturnType, kind, known);
            if (access == AccessKind.Read && result.ValueTypeName is null)
            {
                LocationInfo where = ReturnTypeLocation(handler) ?? attributeLocation;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UncachableResult, where, handler.ReturnType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
            }

            TemplateModel? ownKey = BindOwnKey(attribute, parameters, binder, diagnostics, attributeLocation);
            EquatableArray<TemplateModel> extraKeys = BindAll(binder, attribute.ToInvalidateExtra, TemplateKind.Key);
            EquatableArray<TemplateModel> patterns = BindAll(binder, attribute.PatternToInvalidateExtra, TemplateKind.Pattern);
            EquatableArray<TemplateModel> tags = BindAll(binder, attribute.Tags, TemplateKind.Name);
            EquatableArray<TemplateModel> invalidateTags = BindAll(binder, attribute.InvalidateTags, TemplateKind.Name);
            EquatableArray<TemplateModel> invalidateNamespaces = BindAll(binder, attribute.InvalidateNamespaces, TemplateKind.Name);
            TemplateModel? space = attribute.Namespace is null ? null : binder.Bind(attribute.Namespace.Value, attribute.Namespace.Map, TemplateKind.Name);

            if (ownKey is not null && access != AccessKind.Write)
            {
                // Every value the request binds must be in the key, by its parameter or its [AsParameters] member.
                var keyed = new HashSet<string>(ownKey.Parts.Where(p => !p.IsLiteral).Select(p => handler.Parameters[p.ParameterIndex].Name + p.MemberAccess.Replace("?", string.Empty)), System.StringComparer.Ordinal);
                foreach (IParameterSymbol parameter in handler.Parameters)
                {
                    foreach (RequestDependentValue value in RequestBinding.RequestValues(parameter, known).Where(v => !keyed.Contains(v.Path)))
                    {
                        LocationInfo where = LocationInfo.From(parameter.Locations.FirstOrDefault()) ?? attributeLocation;
                        string what = value.Path == parameter.Name ? "Parameter '" + value.Path + "'" : "'" + value.Path + "' ([AsParameters] member)";
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.RequestValueNotInKey, where, what, value.Source, ownKey.Source, value.Path));
                    }
                }

                foreach (IParameterSymbol parameter in handler.Parameters.Where(p => KnownTypeSymbols.Is(p.Type, known.HttpContext) || KnownTypeSymbols.Is(p.Type, known.HttpRequest)))
                {
                    LocationInfo where = LocationInfo.From(parameter.Locations.FirstOrDefault()) ?? attributeLocation;
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReadsRequestDirectly, where, parameter.Name));
                }
            }

            bool hasErrors = diagnostics.Any(d => DiagnosticDescriptors.ById(d.DescriptorId).DefaultSeverity == DiagnosticSeverity.Error);
            if (hasErrors || ownKey is null)
            {
                return new ParseResult(null, diagnostics.ToEquatableArray());
            }

            var model = new EndpointModel(
                kind,
                access,
                AttributeText(attribute),
                attributeLocation,
                description,
                interception,
                action,
                handler.Parameters.Select(p => Describe(p, kind, known)).ToEquatableArray(),
                attribute.KeyPrefix!.Value,
                ownKey,
                extraKeys,
                patterns,
                tags,
                invalidateTags,
                space,
                invalidateNamespaces,
                attribute.Expiration,
                attribute.WriteThrough,
                result,
                attribute.VaryByUser,
                attribute.StaleIfError,
                attribute.StaleWhileRevalidate,
                new SourceAnchor(handler.ContainingAssembly?.Name ?? string.Empty, attribute.SourceFilePath, attribute.SourceLineNumber));
            return new ParseResult(model, diagnostics.ToEquatableArray());
        }

        private static ParameterModel Describe(IParameterSymbol parameter, EndpointKind kind, KnownTypeSymbols known)
        {
            var model = new ParameterModel(parameter.Name, parameter.Ordinal, TypeNames.FullyQualifiedWithNullability(parameter.Type), DefaultValue(parameter));
            if (kind != EndpointKind.MinimalApi)
            {
                return model;
            }

            (RequestSource source, string name, string? parseType, bool isEnum) = RequestBinding.Describe(parameter, known);
            return model with { Source = source, RequestName = name, ParseType = parseType, ParseAsEnum = isEnum };
        }

        private static string? DefaultValue(IParameterSymbol parameter)
        {
            if (!parameter.HasExplicitDefaultValue)
            {
                return null;
            }

            object? value = parameter.ExplicitDefaultValue;
            if (value is null)
            {
                return "default!";
            }

            string literal = Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatPrimitive(value, quoteStrings: true, useHexadecimalNumbers: false);
            return value is string or bool ? literal : "(" + TypeNames.FullyQualified(parameter.Type) + ")" + literal;
        }

        // The return type as written, or the lambda's arrow when it has none.
        private static LocationInfo? ReturnTypeLocation(IMethodSymbol handler)
        {
            SyntaxNode? syntax = handler.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
            Microsoft.CodeAnalysis.Text.TextSpan? span = syntax switch
            {
                Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax method => method.ReturnType.Span,
                Microsoft.CodeAnalysis.CSharp.Syntax.LocalFunctionStatementSyntax local => local.ReturnType.Span,
                Microsoft.CodeAnalysis.CSharp.Syntax.ParenthesizedLambdaExpressionSyntax { ReturnType: { } returnType } => returnType.Span,
                Microsoft.CodeAnalysis.CSharp.Syntax.LambdaExpressionSyntax lambda => lambda.ArrowToken.Span,
                _ => null,
            };
            return span is null ? null : LocationInfo.From(syntax!.SyntaxTree, span.Value);
        }

        private static TemplateModel? BindOwnKey(AttributeReader attribute, ImmutableArray<BindableParameter> parameters, TemplateBinder binder, List<DiagnosticInfo> diagnostics, LocationInfo attributeLocation)
        {
            AttributeString? prefix = attribute.KeyPrefix;
            if (prefix is null || prefix.Value.Length == 0)
            {
                LocationInfo where = prefix is null ? attributeLocation : prefix.Map.Whole;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedTemplate, where, prefix?.Value ?? string.Empty, "the key prefix is empty; name what is cached, such as \"post\""));
                return null;
            }

            TemplateModel? prefixModel = binder.Bind(prefix.Value, prefix.Map, TemplateKind.Key);
            TemplatePart? id = BindResourceId(attribute, parameters, binder, diagnostics, attributeLocation);
            if (prefixModel is null || id is null)
            {
                return null;
            }

            var parts = new List<TemplatePart>(prefixModel.Parts);
            if (parts.Count > 0 && parts[parts.Count - 1].IsLiteral)
            {
                TemplatePart last = parts[parts.Count - 1];
                parts[parts.Count - 1] = last with { Literal = last.Literal + ":" };
            }
            else
            {
                parts.Add(new TemplatePart(":", -1, string.Empty));
            }

            parts.Add(id);
            string idText = id.IsLiteral ? id.Literal : "{" + (attribute.ResourceIdName?.Value ?? parameters[id.ParameterIndex].Name) + "}";
            return new TemplateModel(prefix.Value + ":" + idText, Merge(parts).ToEquatableArray());
        }

        private static TemplatePart? BindResourceId(AttributeReader attribute, ImmutableArray<BindableParameter> parameters, TemplateBinder binder, List<DiagnosticInfo> diagnostics, LocationInfo attributeLocation)
        {
            AttributeString? named = attribute.ResourceIdName;
            AttributeString? fixedId = attribute.ResourceId;
            if (fixedId is not null)
            {
                if (named is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ResourceIdTwice, fixedId.Map.Whole));
                    return null;
                }

                if (fixedId.Value.Length == 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedTemplate, fixedId.Map.Whole, fixedId.Value, "the fixed resource id is empty"));
                    return null;
                }

                // Encoded now exactly as the runtime encodes values, so the key is a constant.
                return new TemplatePart(KeyEncoder.Encode(fixedId.Value), -1, string.Empty);
            }

            if (named is not null)
            {
                string root = named.Value.Split('.')[0];
                if (!parameters.Any(p => p.Name == root))
                {
                    string suggestion = TemplateBinder.Suggest(root, parameters.Select(p => p.Name));
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ResourceIdNotAParameter, named.Map.Locate(0, named.Value.Length), named.Value, suggestion));
                    return null;
                }

                return binder.BindPath(named.Value, 0, named.Map);
            }

            BindableParameter? id = parameters.FirstOrDefault(p => p.Name == "id");
            if (id is null)
            {
                BindableParameter[] candidates = parameters.Where(p => p.Name.Length > 2 && p.Name.EndsWith("Id", System.StringComparison.Ordinal)).ToArray();
                if (candidates.Length == 0)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ResourceIdNotInferred, attributeLocation));
                    return null;
                }

                if (candidates.Length > 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ResourceIdAmbiguous, attributeLocation, string.Join(", ", candidates.Select(c => c.Name))));
                    return null;
                }

                id = candidates[0];
            }

            var map = StringLiteralMap.For(attribute.Syntax, id.Name);
            return binder.BindPath(id.Name, 0, map);
        }

        // Joins adjacent literal parts, so a key with a fixed resource id is one constant.
        private static List<TemplatePart> Merge(List<TemplatePart> parts)
        {
            var merged = new List<TemplatePart>(parts.Count);
            foreach (TemplatePart part in parts)
            {
                if (part.IsLiteral && merged.Count > 0 && merged[merged.Count - 1].IsLiteral)
                {
                    merged[merged.Count - 1] = merged[merged.Count - 1] with { Literal = merged[merged.Count - 1].Literal + part.Literal };
                }
                else
                {
                    merged.Add(part);
                }
            }

            return merged;
        }

        private static EquatableArray<TemplateModel> BindAll(TemplateBinder binder, List<AttributeString> templates, TemplateKind kind)
        {
            var models = new List<TemplateModel>(templates.Count);
            foreach (AttributeString template in templates)
            {
                TemplateModel? model = binder.Bind(template.Value, template.Map, kind);
                if (model is not null)
                {
                    models.Add(model);
                }
            }

            return models.ToEquatableArray();
        }

        private static string AttributeText(AttributeReader attribute)
        {
            // One line, as written, for the comment above the generated code.
            string text = string.Join(" ", attribute.Syntax.ToString().Split(new[] { '\r', '\n' }, System.StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
            return "[" + text + "]";
        }
    }
}
