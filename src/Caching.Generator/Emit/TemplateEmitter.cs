using System.Collections.Generic;
using System.Linq;
using Caching.Generator.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace Caching.Generator.Emit
{
    /// <summary>Writes the methods that format keys, patterns, tags and namespaces from a request's arguments.</summary>
    internal sealed class TemplateEmitter
    {
        private readonly EndpointModel _endpoint;
        private readonly string _contextType;

        public TemplateEmitter(EndpointModel endpoint)
        {
            _endpoint = endpoint;
            _contextType = ContextType(endpoint.Kind);
        }

        /// <summary>The type of the <c>context</c> parameter generated methods take.</summary>
        public static string ContextType(EndpointKind kind) => kind == EndpointKind.MinimalApi
            ? "global::Microsoft.AspNetCore.Http.EndpointFilterInvocationContext"
            : "global::Microsoft.AspNetCore.Mvc.Filters.ActionExecutingContext";

        /// <summary>An expression for the template's value: a string literal when constant, else a call to its method.</summary>
        public string Expression(TemplateModel template, string methodName)
            => template.IsConstant ? Literal(template.ConstantValue) : methodName + "(context)";

        /// <summary>Writes the method that formats a non-constant template.</summary>
        public void WriteMethod(CodeWriter writer, TemplateModel template, string methodName, bool pattern, string what)
        {
            if (template.IsConstant)
            {
                return;
            }

            writer.Line();
            writer.Line("// " + what + " \"" + template.Source + "\"");
            writer.Open("private static string " + methodName + "(" + _contextType + " context)");
            foreach (int index in template.Parts.Where(p => !p.IsLiteral).Select(p => p.ParameterIndex).Distinct())
            {
                ParameterModel parameter = _endpoint.Parameters[index];
                writer.Line("var " + LocalName(parameter) + " = " + ReadArgument(parameter) + ";");
            }

            WriteKeyBuilder(writer, template, pattern);
            writer.Close();
        }

        /// <summary>
        /// Whether the endpoint's own key can be formed from the request before binding: a read without a
        /// namespace whose key takes only route or query values of types parsed as the binder parses them.
        /// </summary>
        public static bool HasHitPath(EndpointModel endpoint)
            => endpoint.Kind == EndpointKind.MinimalApi
                && endpoint.Access != AccessKind.Write
                && endpoint.Result.ValueTypeName is not null
                && endpoint.Namespace is null
                && endpoint.OwnKey.Parts.All(p => p.IsLiteral || (p.MemberAccess.Length == 0 && endpoint.Parameters[p.ParameterIndex] is { Source: not RequestSource.Other, ParseType: not null }));

        /// <summary>The parameters the hit path reads, in the order of the generated RequestValues list.</summary>
        public IReadOnlyList<ParameterModel> HitPathValues()
            => _endpoint.OwnKey.Parts.Where(p => !p.IsLiteral).Select(p => p.ParameterIndex).Distinct().Select(i => _endpoint.Parameters[i]).ToList();

        /// <summary>Writes RequestKey: the own key formed from the request's values, or null when one is missing or does not parse.</summary>
        public void WriteRequestKeyMethod(CodeWriter writer)
        {
            IReadOnlyList<ParameterModel> values = HitPathValues();
            var taken = new HashSet<string>(values.Select(LocalName), System.StringComparer.Ordinal);
            string Temporary(string name)
            {
                while (taken.Contains(name))
                {
                    name += "_";
                }

                return name;
            }

            writer.Line();
            writer.Line("// The endpoint's key \"" + _endpoint.OwnKey.Source + "\" from the request, before binding; null sends the request the usual way.");
            writer.Open("private static string? RequestKey(global::Microsoft.AspNetCore.Http.HttpContext http, global::Caching.AspNetCore.RequestValues values)");
            for (int i = 0; i < values.Count; i++)
            {
                ParameterModel parameter = values[i];
                string local = LocalName(parameter);
                if (i > 0)
                {
                    writer.Line();
                }

                if (parameter.ParseType == "string")
                {
                    writer.Open("if (!values.TryGet(http, " + i + ", out string? " + local + "))");
                }
                else
                {
                    // RequestText parses as ASP.NET Core's binder does (same method, styles and culture), so this
                    // key is the key the filter forms from the bound argument.
                    string method = parameter.ParseAsEnum ? "TryParseEnum" : "TryParse";
                    string text = Temporary("requestText" + i);
                    string parsed = Temporary("requestValue" + i);
                    writer.Line("if (!values.TryGet(http, " + i + ", out string? " + text + ")");
                    writer.Indent();
                    writer.Line("|| !global::Caching.Keys.RequestText." + method + "(" + text + ", out " + parameter.ParseType + " " + parsed + "))");
                    writer.Outdent();
                    writer.Line("{");
                    writer.Indent();
                }

                writer.Line("return null;");
                writer.Close();
                if (parameter.ParseType != "string")
                {
                    writer.Line(parameter.TypeName + " " + local + " = " + Temporary("requestValue" + i) + ";");
                }
            }

            if (values.Count > 0)
            {
                writer.Line();
            }

            WriteKeyBuilder(writer, _endpoint.OwnKey, pattern: false);
            writer.Close();
        }

        private void WriteKeyBuilder(CodeWriter writer, TemplateModel template, bool pattern)
        {
            int capacity = template.Parts.Sum(p => p.IsLiteral ? p.Literal.Length : 16);
            writer.Line("var keyBuilder = new global::Caching.Keys.KeyBuilder(" + capacity + ");");
            foreach (TemplatePart part in template.Parts)
            {
                if (part.IsLiteral)
                {
                    writer.Line("keyBuilder.AppendLiteral(" + Literal(part.Literal) + ");");
                }
                else
                {
                    string value = LocalName(_endpoint.Parameters[part.ParameterIndex]) + part.MemberAccess;
                    writer.Line("keyBuilder." + (pattern ? "AppendPatternValue" : "AppendValue") + "(" + value + ");");
                }
            }

            writer.Line("return keyBuilder.ToStringAndClear();");
        }

        public static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

        public static string ArrayOrNull(IReadOnlyList<string> expressions)
            => expressions.Count == 0 ? "null" : "[" + string.Join(", ", expressions) + "]";

        private string ReadArgument(ParameterModel parameter)
            => _endpoint.Kind == EndpointKind.MinimalApi
                ? "context.GetArgument<" + parameter.TypeName + ">(" + parameter.Index + ")"
                : "global::Caching.AspNetCore.ActionArguments.Get<" + parameter.TypeName + ">(context, " + Literal(parameter.Name) + (parameter.DefaultValue is null ? string.Empty : ", " + parameter.DefaultValue) + ")";

        private static string LocalName(ParameterModel parameter)
        {
            string name = parameter.Name;
            if (name is "context" or "keyBuilder" or "next" or "cache" or "http" or "values")
            {
                return name + "Value";
            }

            return SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
        }
    }
}
