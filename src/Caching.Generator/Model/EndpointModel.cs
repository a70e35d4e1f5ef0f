namespace Caching.Generator.Model
{
    /// <summary>How an endpoint is reached.</summary>
    internal enum EndpointKind
    {
        /// <summary>A minimal-API Map* call, intercepted.</summary>
        MinimalApi,

        /// <summary>A controller action, filtered.</summary>
        Controller,
    }

    /// <summary>Whether requests read the cache or invalidate it.</summary>
    internal enum AccessKind
    {
        /// <summary>GET or HEAD: read-through.</summary>
        Read,

        /// <summary>POST, PUT, PATCH or DELETE: invalidate after success.</summary>
        Write,

        /// <summary>MapMethods with methods not known at build time: decided per request.</summary>
        ByRequestMethod,
    }

    /// <summary>Where a minimal-API parameter's value comes from, for a key formed before binding.</summary>
    internal enum RequestSource
    {
        /// <summary>Not from the route or the query string as text (body, services, headers, complex types).</summary>
        Other,

        /// <summary>No [From*]: the route when the route pattern has the name, else the query string.</summary>
        Inferred,

        /// <summary>[FromRoute].</summary>
        Route,

        /// <summary>[FromQuery].</summary>
        Query,
    }

    /// <summary>One handler parameter: what generated code needs to read it.</summary>
    /// <param name="Name">The parameter's name.</param>
    /// <param name="Index">Its position in the handler's parameter list.</param>
    /// <param name="TypeName">Its fully qualified type.</param>
    /// <param name="DefaultValue">The parameter's explicit default as C#, or null when it has none.</param>
    /// <param name="Source">Where its value comes from in the request.</param>
    /// <param name="RequestName">The route or query name it is bound from.</param>
    /// <param name="ParseType">The type RequestText parses its text to ("string" for no parse), or null when unsupported.</param>
    /// <param name="ParseAsEnum">Whether that type is an enum (RequestText.TryParseEnum rather than TryParse).</param>
    internal sealed record ParameterModel(string Name, int Index, string TypeName, string? DefaultValue = null, RequestSource Source = RequestSource.Other, string RequestName = "", string? ParseType = null, bool ParseAsEnum = false);

    /// <summary>One part of a key template: literal text, or a value read from an argument.</summary>
    /// <param name="Literal">The literal text, when <paramref name="ParameterIndex"/> is -1.</param>
    /// <param name="ParameterIndex">The handler parameter the value comes from.</param>
    /// <param name="MemberAccess">The member path after the parameter, such as "?.CategoryId", as C#.</param>
    internal sealed record TemplatePart(string Literal, int ParameterIndex, string MemberAccess)
    {
        public bool IsLiteral => ParameterIndex < 0;
    }

    /// <summary>A bound key, pattern, tag or namespace template.</summary>
    internal sealed record TemplateModel(string Source, EquatableArray<TemplatePart> Parts)
    {
        public bool IsConstant => Parts.Count == 0 || (Parts.Count == 1 && Parts[0].IsLiteral);

        public string ConstantValue => Parts.Count == 0 ? string.Empty : Parts[0].Literal;
    }

    /// <summary>The value a handler returns, as far as caching is concerned.</summary>
    /// <param name="ValueTypeName">Fully qualified type of the cached value, or null when there is none.</param>
    /// <param name="WritesText">Whether the value is a string written as text/plain.</param>
    internal sealed record ResultModel(string? ValueTypeName, bool WritesText);

    /// <summary>Everything the emitter needs for one cached endpoint; compares by value.</summary>
    internal sealed record EndpointModel(
        EndpointKind Kind,
        AccessKind Access,
        string AttributeText,
        LocationInfo AttributeLocation,
        string Description,
        InterceptionModel? Interception,
        ControllerActionModel? Action,
        EquatableArray<ParameterModel> Parameters,
        string KeyPrefixSource,
        TemplateModel OwnKey,
        EquatableArray<TemplateModel> ExtraKeys,
        EquatableArray<TemplateModel> Patterns,
        EquatableArray<TemplateModel> Tags,
        EquatableArray<TemplateModel> InvalidateTags,
        TemplateModel? Namespace,
        EquatableArray<TemplateModel> InvalidateNamespaces,
        int Expiration,
        bool WriteThrough,
        ResultModel Result,
        bool VaryByUser = false,
        int StaleIfError = -1,
        int StaleWhileRevalidate = -1,
        SourceAnchor? Anchor = null);

    /// <summary>
    /// Where the compiler says the [Cache] attribute is (its caller-info arguments), and the assembly of the
    /// handler it is on. With the Request Delegate Generator on, the runtime finds an endpoint's generated code by
    /// these three values (file paths alone can repeat across projects, e.g. under PathMap).
    /// </summary>
    internal sealed record SourceAnchor(string AssemblyName, string FilePath, int Line);

    /// <summary>The Map* call to intercept and the signature of the method it binds to.</summary>
    internal sealed record InterceptionModel(
        int LocationVersion,
        string LocationData,
        string LocationDisplay,
        string MethodName,
        string ContainingTypeName,
        string ReturnTypeName,
        EquatableArray<string> ParameterTypeNames);

    /// <summary>The controller action to attach a filter to.</summary>
    internal sealed record ControllerActionModel(string ControllerTypeName, string MethodName, EquatableArray<string> ParameterTypeNames);

    /// <summary>The parse result of one candidate: a model to emit (when valid) and its diagnostics.</summary>
    /// <param name="Endpoint">The endpoint to emit, when valid.</param>
    /// <param name="Diagnostics">What to report.</param>
    /// <param name="HandlerMethodId">For a Map* call whose handler is a method group: the method's documentation id.</param>
    /// <param name="UnattachedMethodId">For a [Cache] method that is no controller action: its documentation id.</param>
    /// <param name="UnattachedMethodLocation">Where that method's [Cache] is, for CACHE012.</param>
    internal sealed record ParseResult(
        EndpointModel? Endpoint,
        EquatableArray<DiagnosticInfo> Diagnostics,
        string? HandlerMethodId = null,
        string? UnattachedMethodId = null,
        LocationInfo? UnattachedMethodLocation = null);
}
