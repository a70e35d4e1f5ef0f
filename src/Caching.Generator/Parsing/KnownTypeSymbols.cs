using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Parsing
{
    /// <summary>
    /// The framework types the parsers recognize, resolved once per compilation by metadata name and compared with
    /// <see cref="SymbolEqualityComparer"/> (never by display string). A type the project does not reference is null,
    /// and nothing is ever equal to null.
    /// </summary>
    internal sealed class KnownTypeSymbols
    {
        private static readonly ConditionalWeakTable<Compilation, KnownTypeSymbols> PerCompilation = new();

        private KnownTypeSymbols(Compilation compilation)
        {
            Compilation = compilation;
            CacheAttribute = compilation.GetTypeByMetadataName(AttributeReader.CacheAttributeName);
            EndpointRouteBuilderExtensions = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions");
            Delegate = compilation.GetTypeByMetadataName("System.Delegate");

            ControllerBase = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.ControllerBase");
            ApiControllerAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.ApiControllerAttribute");
            ControllerAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.ControllerAttribute");
            HttpGetAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.HttpGetAttribute");
            HttpHeadAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.HttpHeadAttribute");
            HttpPostAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.HttpPostAttribute");
            HttpPutAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.HttpPutAttribute");
            HttpPatchAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.HttpPatchAttribute");
            HttpDeleteAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.HttpDeleteAttribute");
            AcceptVerbsAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.AcceptVerbsAttribute");
            ActionResultOfT = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.ActionResult`1");
            IActionResult = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.IActionResult");

            IResult = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.IResult");
            IValueHttpResultOfT = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.IValueHttpResult`1");
            OkOfT = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.HttpResults.Ok`1");
            HttpContext = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.HttpContext");
            HttpRequest = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.HttpRequest");
            HttpResponse = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.HttpResponse");
            IFormFile = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.IFormFile");
            IFormFileCollection = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.IFormFileCollection");
            IFormCollection = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.IFormCollection");
            StringValues = compilation.GetTypeByMetadataName("Microsoft.Extensions.Primitives.StringValues");
            PipeReader = compilation.GetTypeByMetadataName("System.IO.Pipelines.PipeReader");
            IFromRouteMetadata = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.Metadata.IFromRouteMetadata");
            IFromQueryMetadata = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.Metadata.IFromQueryMetadata");
            IFromHeaderMetadata = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.Metadata.IFromHeaderMetadata");
            IFromFormMetadata = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.Metadata.IFromFormMetadata");
            IFromBodyMetadata = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.Metadata.IFromBodyMetadata");
            IFromServiceMetadata = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.Metadata.IFromServiceMetadata");
            FromKeyedServicesAttribute = compilation.GetTypeByMetadataName("Microsoft.Extensions.DependencyInjection.FromKeyedServicesAttribute");
            AsParametersAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.AsParametersAttribute");

            Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
            TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
            ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
            ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
            CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
            ClaimsPrincipal = compilation.GetTypeByMetadataName("System.Security.Claims.ClaimsPrincipal");
            Stream = compilation.GetTypeByMetadataName("System.IO.Stream");
            IFormatProvider = compilation.GetTypeByMetadataName("System.IFormatProvider");
            IFormattable = compilation.GetTypeByMetadataName("System.IFormattable");
            ParameterInfo = compilation.GetTypeByMetadataName("System.Reflection.ParameterInfo");
            Guid = compilation.GetTypeByMetadataName("System.Guid");
            DateTimeOffset = compilation.GetTypeByMetadataName("System.DateTimeOffset");
            DateOnly = compilation.GetTypeByMetadataName("System.DateOnly");
            TimeOnly = compilation.GetTypeByMetadataName("System.TimeOnly");
            TimeSpan = compilation.GetTypeByMetadataName("System.TimeSpan");
        }

        /// <summary>The symbols of <paramref name="compilation"/>, resolved on first use and kept while it lives.</summary>
        public static KnownTypeSymbols For(Compilation compilation) => PerCompilation.GetValue(compilation, static c => new KnownTypeSymbols(c));

        public Compilation Compilation { get; }

        public INamedTypeSymbol? CacheAttribute { get; }

        public INamedTypeSymbol? EndpointRouteBuilderExtensions { get; }

        public INamedTypeSymbol? Delegate { get; }

        public INamedTypeSymbol? ControllerBase { get; }

        public INamedTypeSymbol? ApiControllerAttribute { get; }

        public INamedTypeSymbol? ControllerAttribute { get; }

        public INamedTypeSymbol? HttpGetAttribute { get; }

        public INamedTypeSymbol? HttpHeadAttribute { get; }

        public INamedTypeSymbol? HttpPostAttribute { get; }

        public INamedTypeSymbol? HttpPutAttribute { get; }

        public INamedTypeSymbol? HttpPatchAttribute { get; }

        public INamedTypeSymbol? HttpDeleteAttribute { get; }

        public INamedTypeSymbol? AcceptVerbsAttribute { get; }

        public INamedTypeSymbol? ActionResultOfT { get; }

        public INamedTypeSymbol? IActionResult { get; }

        public INamedTypeSymbol? IResult { get; }

        public INamedTypeSymbol? IValueHttpResultOfT { get; }

        public INamedTypeSymbol? OkOfT { get; }

        public INamedTypeSymbol? HttpContext { get; }

        public INamedTypeSymbol? HttpRequest { get; }

        public INamedTypeSymbol? HttpResponse { get; }

        public INamedTypeSymbol? IFormFile { get; }

        public INamedTypeSymbol? IFormFileCollection { get; }

        public INamedTypeSymbol? IFormCollection { get; }

        public INamedTypeSymbol? StringValues { get; }

        public INamedTypeSymbol? PipeReader { get; }

        /// <summary>[FromRoute] and any attribute the binder reads as it.</summary>
        public INamedTypeSymbol? IFromRouteMetadata { get; }

        public INamedTypeSymbol? IFromQueryMetadata { get; }

        public INamedTypeSymbol? IFromHeaderMetadata { get; }

        public INamedTypeSymbol? IFromFormMetadata { get; }

        public INamedTypeSymbol? IFromBodyMetadata { get; }

        public INamedTypeSymbol? IFromServiceMetadata { get; }

        public INamedTypeSymbol? FromKeyedServicesAttribute { get; }

        public INamedTypeSymbol? AsParametersAttribute { get; }

        public INamedTypeSymbol? Task { get; }

        public INamedTypeSymbol? TaskOfT { get; }

        public INamedTypeSymbol? ValueTask { get; }

        public INamedTypeSymbol? ValueTaskOfT { get; }

        public INamedTypeSymbol? CancellationToken { get; }

        public INamedTypeSymbol? ClaimsPrincipal { get; }

        public INamedTypeSymbol? Stream { get; }

        public INamedTypeSymbol? IFormatProvider { get; }

        public INamedTypeSymbol? IFormattable { get; }

        public INamedTypeSymbol? ParameterInfo { get; }

        public INamedTypeSymbol? Guid { get; }

        public INamedTypeSymbol? DateTimeOffset { get; }

        public INamedTypeSymbol? DateOnly { get; }

        public INamedTypeSymbol? TimeOnly { get; }

        public INamedTypeSymbol? TimeSpan { get; }

        /// <summary>How ASP.NET Core's binder reads a parameter attribute (it goes by these interfaces, not by names).</summary>
        public BindingAttribute Classify(AttributeData attribute)
        {
            INamedTypeSymbol? type = attribute.AttributeClass;
            if (type is null)
            {
                return BindingAttribute.None;
            }

            if (Is(type, AsParametersAttribute))
            {
                return BindingAttribute.AsParameters;
            }

            if (Is(type, FromKeyedServicesAttribute) || IsOrImplements(type, IFromServiceMetadata))
            {
                return BindingAttribute.Services;
            }

            return IsOrImplements(type, IFromRouteMetadata) ? BindingAttribute.Route
                : IsOrImplements(type, IFromQueryMetadata) ? BindingAttribute.Query
                : IsOrImplements(type, IFromHeaderMetadata) ? BindingAttribute.Header
                : IsOrImplements(type, IFromFormMetadata) ? BindingAttribute.Form
                : IsOrImplements(type, IFromBodyMetadata) ? BindingAttribute.Body
                : BindingAttribute.None;
        }

        /// <summary>Whether <paramref name="type"/> (or its generic definition) is <paramref name="known"/>.</summary>
        public static bool Is(ITypeSymbol? type, INamedTypeSymbol? known)
            => known is not null && type is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, known);

        /// <summary>Whether <paramref name="type"/> is <paramref name="known"/> or implements it.</summary>
        public static bool IsOrImplements(ITypeSymbol type, INamedTypeSymbol? known)
        {
            if (known is null)
            {
                return false;
            }

            if (Is(type, known))
            {
                return true;
            }

            foreach (INamedTypeSymbol implemented in type.AllInterfaces)
            {
                if (Is(implemented, known))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The interface of <paramref name="type"/> whose generic definition is <paramref name="known"/>, if any.</summary>
        public static INamedTypeSymbol? FindInterface(ITypeSymbol type, INamedTypeSymbol? known)
        {
            if (known is null)
            {
                return null;
            }

            if (type is INamedTypeSymbol self && Is(self, known))
            {
                return self;
            }

            foreach (INamedTypeSymbol implemented in type.AllInterfaces)
            {
                if (Is(implemented, known))
                {
                    return implemented;
                }
            }

            return null;
        }
    }

    /// <summary>What a parameter attribute tells the minimal-API binder.</summary>
    internal enum BindingAttribute
    {
        /// <summary>Not a binding attribute.</summary>
        None,

        /// <summary>[FromRoute] or an IFromRouteMetadata.</summary>
        Route,

        /// <summary>[FromQuery] or an IFromQueryMetadata.</summary>
        Query,

        /// <summary>[FromHeader] or an IFromHeaderMetadata.</summary>
        Header,

        /// <summary>[FromForm] or an IFromFormMetadata.</summary>
        Form,

        /// <summary>[FromBody] or an IFromBodyMetadata.</summary>
        Body,

        /// <summary>[FromServices], [FromKeyedServices] or an IFromServiceMetadata.</summary>
        Services,

        /// <summary>[AsParameters].</summary>
        AsParameters,
    }
}
