using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Caching.Generator
{
    /// <summary>
    /// How minimal-API endpoints get their caching code. By default the generator intercepts their Map* calls.
    /// ASP.NET Core's Request Delegate Generator (on with PublishAot, PublishTrimmed or
    /// EnableRequestDelegateGenerator) intercepts the same calls, and a call intercepted twice does not compile
    /// (CS9153); then the generator registers each endpoint's code under its attribute's file and line instead,
    /// and <c>app.UseAttributeCaching()</c> attaches it when the endpoints are built.
    /// </summary>
    /// <param name="RequestDelegateGenerator">Whether the Request Delegate Generator is on.</param>
    /// <param name="CallsUseAttributeCaching">Whether the project calls <c>UseAttributeCaching()</c> anywhere.</param>
    /// <param name="IsApplication">
    /// Whether the project is an application. A class library that maps endpoints leaves the call to the app that
    /// uses it (a global PublishAot turns the Request Delegate Generator on in libraries too).
    /// </param>
    internal sealed record GenerationMode(bool RequestDelegateGenerator, bool CallsUseAttributeCaching, bool IsApplication)
    {
        public static bool IsRequestDelegateGeneratorOn(AnalyzerConfigOptions options)
            => options.TryGetValue("build_property.EnableRequestDelegateGenerator", out string? value)
                && string.Equals(value?.Trim(), "true", System.StringComparison.OrdinalIgnoreCase);

        public static bool IsUseAttributeCachingCall(SyntaxNode node, System.Threading.CancellationToken cancellationToken)
            => node is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "UseAttributeCaching" } };
    }
}
