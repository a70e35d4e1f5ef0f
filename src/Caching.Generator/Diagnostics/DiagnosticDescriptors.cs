using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Diagnostics
{
    /// <summary>Every diagnostic CacheAnalyzer reports. IDs are stable; never reuse one.</summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "Caching";
    

        public static readonly DiagnosticDescriptor UnknownPlaceholder = Create(
            "CACHE001",
            "Placeholder names no handler parameter or member",
            "'{{{0}}}' does not name {1}{2}",
            DiagnosticSeverity.Error,
            "Every {name} or {name.Member} in a [Cache] template must name a parameter of the handler (route, query, header or body) or a member of one.");

        public static readonly DiagnosticDescriptor MalformedTemplate = Create(
            "CACHE002",
            "Malformed cache template",
            "Template \"{0}\" is malformed: {1}",
            DiagnosticSeverity.Error,
            "Placeholders are written {name} or {name.Member}; write {{ and }} for literal braces.");

        public static readonly DiagnosticDescriptor ResourceIdNotAParameter = Create(
            "CACHE003",
            "ResourceIdName names no parameter",
            "ResourceIdName \"{0}\" names no parameter of the handler{1}",
            DiagnosticSeverity.Error,
            "ResourceIdName must be the name of a handler parameter (or a member path such as \"update.Id\").");

        public static readonly DiagnosticDescriptor ResourceIdNotInferred = Create(
            "CACHE004",
            "Resource id cannot be inferred",
            "The handler has no parameter named 'id' and none whose name ends in 'Id'; set ResourceIdName",
            DiagnosticSeverity.Error,
            "Without ResourceIdName the parameter named 'id' is used, else the only parameter whose name ends in 'Id'.");

        public static readonly DiagnosticDescriptor ResourceIdAmbiguous = Create(
            "CACHE005",
            "Resource id is ambiguous",
            "Several parameters could be the resource id ({0}); set ResourceIdName",
            DiagnosticSeverity.Error,
            "Without ResourceIdName the parameter named 'id' is used, else the only parameter whose name ends in 'Id'; the generator never guesses.");

        public static readonly DiagnosticDescriptor GlobInKeyTemplate = Create(
            "CACHE006",
            "Glob character in a key template",
            "'{0}' in \"{1}\" is a glob character, but this is a key, not a pattern; use PatternToInvalidateExtra for patterns",
            DiagnosticSeverity.Error,
            "Keys are exact; the characters * ? [ ] \\ only mean something in PatternToInvalidateExtra.");

        public static readonly DiagnosticDescriptor InvalidationOnRead = Create(
            "CACHE007",
            "Invalidation settings on a read",
            "{0} does nothing on a {1} endpoint: reads never invalidate",
            DiagnosticSeverity.Warning,
            "ToInvalidateExtra, PatternToInvalidateExtra, InvalidateTags, InvalidateNamespaces and WriteThrough apply to POST, PUT, PATCH and DELETE.");

        public static readonly DiagnosticDescriptor UncachableResult = Create(
            "CACHE008",
            "The handler's result cannot be cached",
            "A GET handler returning '{0}' has no response to cache; return the value, an IResult, Ok<T> or Results<Ok<T>, ...>",
            DiagnosticSeverity.Error,
            "Cached GET handlers must return something: T, Task<T>, ValueTask<T>, an IResult, Ok<T>, Results<Ok<T>, ...>, ActionResult<T> or an IActionResult.");

        public static readonly DiagnosticDescriptor NoInvariantText = Create(
            "CACHE009",
            "Placeholder value has no invariant text form",
            "'{{{0}}}' is of type '{1}', which has no invariant text form; name a member of it instead, such as {{{0}.Id}}",
            DiagnosticSeverity.Error,
            "Placeholder values must be strings, numbers, bool, char, Guid, dates and times, enums, or types implementing IFormattable (written with ToString(null, InvariantCulture), which must differ for different values). A type bound with TryParse or BindAsync that is not IFormattable cannot be in a key: implement IFormattable, or name a member of it.");

        public static readonly DiagnosticDescriptor NonPositiveExpiration = Create(
            "CACHE010",
            "Expiration must be positive",
            "Expiration is {0} seconds; set a positive number of seconds",
            DiagnosticSeverity.Error,
            "Expiration is the time to live of an entry, in seconds.");

        public static readonly DiagnosticDescriptor NegativeStaleWindow = Create(
            "CACHE021",
            "Stale window must not be negative",
            "{0} is {1} seconds; set 0 (off), a positive number of seconds, or leave it out to take CachingOptions.{0}",
            DiagnosticSeverity.Error,
            "StaleIfError and StaleWhileRevalidate are how long past its expiration an entry may be served stale, in seconds; -1, the default, takes the option of the same name.");

        public static readonly DiagnosticDescriptor PrefixWithDifferentTypes = Create(
            "CACHE011",
            "One key prefix cached with different result types",
            "Key prefix \"{0}\" is cached here as '{1}' and elsewhere as '{2}'; the endpoints would read each other's entries",
            DiagnosticSeverity.Warning,
            "Give endpoints that cache different types different key prefixes.",
            compilationEnd: true);

        public static readonly DiagnosticDescriptor NotAttached = Create(
            "CACHE012",
            "Caching is not applied",
            "This [Cache] handler is not passed directly to a Map* call nor declared as a controller action, so caching is not applied",
            DiagnosticSeverity.Warning,
            "The generator attaches caching where the handler is passed to MapGet/MapPost/MapPut/MapPatch/MapDelete/MapMethods, or on controller actions. A handler passed through a variable is not seen.",
            compilationEnd: true);

        public static readonly DiagnosticDescriptor AmbiguousTemplate = Create(
            "CACHE013",
            "Adjacent placeholders make keys ambiguous",
            "'{{{0}}}' is followed by '{1}', which a value can also contain; separate placeholders with ':' or '_'",
            DiagnosticSeverity.Warning,
            "Values are encoded so that they never contain ':' or '_' (nor other punctuation); separating placeholders with one of them keeps keys unambiguous.");

        public static readonly DiagnosticDescriptor ResourceIdTwice = Create(
            "CACHE014",
            "Two resource ids",
            "Set either ResourceIdName (a parameter) or ResourceId (a fixed id), not both",
            DiagnosticSeverity.Error,
            "ResourceIdName names the parameter whose value ends the key; ResourceId is a fixed value for endpoints without one.");

        public static readonly DiagnosticDescriptor PrefixWithDifferentNamespaces = Create(
            "CACHE015",
            "One key prefix stored under different namespaces",
            "Key prefix \"{0}\" is stored here with namespace {1} and elsewhere with {2}; entries written by one are misses for the other",
            DiagnosticSeverity.Warning,
            "A GET and a write-through endpoint that share a key prefix must name the same Namespace, or the written entries are never read.",
            compilationEnd: true);

        public static readonly DiagnosticDescriptor RequestValueNotInKey = Create(
            "CACHE016",
            "A request value is not part of the key",
            "{0} comes from {1} but is not part of the key \"{2}\"; requests that differ only in it would share one entry: put {{{3}}} in the key",
            DiagnosticSeverity.Error,
            "Every value a cached GET handler binds from the request (route, query, header, form or body values, [AsParameters] members, types with TryParse or BindAsync) must appear in the key (the prefix template or the resource id), or pages, users and filters mix. Services, HttpContext, CancellationToken and ClaimsPrincipal are not request values.");

        public static readonly DiagnosticDescriptor ReadsRequestDirectly = Create(
            "CACHE017",
            "A cached handler reads the request directly",
            "Parameter '{0}' gives the handler the whole request; query strings, headers or cookies it reads are not in the key, so different requests could share one entry",
            DiagnosticSeverity.Warning,
            "Bind what the response depends on as parameters (they must then be in the key), or do not cache the endpoint.");

        public static readonly DiagnosticDescriptor UseAttributeCachingMissing = Create(
            "CACHE018",
            "UseAttributeCaching() is needed with the Request Delegate Generator",
            "The Request Delegate Generator is on (PublishAot, PublishTrimmed or EnableRequestDelegateGenerator), so [Cache] endpoints are attached by app.UseAttributeCaching(), which this project never calls",
            DiagnosticSeverity.Error,
            "The Request Delegate Generator intercepts the Map* calls the Caching generator would intercept. Its endpoints get their caching filters when app.UseAttributeCaching() runs; without the call they would silently not cache.",
            compilationEnd: true);

        public static readonly DiagnosticDescriptor TwoAttributesOnOneLine = Create(
            "CACHE019",
            "Two [Cache] attributes on one line",
            "This [Cache] is on the same line as the one on {0}; with the Request Delegate Generator on, endpoints are told apart by the line of their attribute: put it on a line of its own",
            DiagnosticSeverity.Error,
            "With the Request Delegate Generator on, the runtime finds each minimal-API endpoint's generated code by the file and line the compiler gives the attribute.",
            compilationEnd: true);

        public static readonly DiagnosticDescriptor PatternWithoutWildcard = Create(
            "CACHE020",
            "A pattern without a wildcard",
            "Pattern \"{0}\" has no wildcard, so it invalidates at most the one key of that name; did you mean \"{1}\"?",
            DiagnosticSeverity.Warning,
            "PatternToInvalidateExtra takes Redis glob patterns, matched against whole keys. The Python decorator appends '*' to every pattern; here the pattern is used as written, so 'user_{userId}_posts' matches no key 'user_7_posts:2'. Add the wildcard, or move an exact key to ToInvalidateExtra.");

        /// <summary>Every descriptor above, in ID order: what the analyzer supports.</summary>
        public static readonly ImmutableArray<DiagnosticDescriptor> All = typeof(DiagnosticDescriptors)
            .GetFields()
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null))
            .OrderBy(d => d.Id, StringComparer.Ordinal)
            .ToImmutableArray();

        private static readonly Dictionary<string, DiagnosticDescriptor> ByIds = All.ToDictionary(d => d.Id, StringComparer.Ordinal);

        public static DiagnosticDescriptor ById(string id) => ByIds[id];

        // Rules that need the whole project (EndpointSetRules) are reported when the compilation ends; the IDE shows
        // them after a build or with full-solution analysis, not while typing.
        private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity, string description, bool compilationEnd = false)
            => new(id, title, message, Category, severity, isEnabledByDefault: true, description: description, helpLinkUri: null,
                customTags: compilationEnd ? new[] { WellKnownDiagnosticTags.CompilationEnd } : Array.Empty<string>());
    }
}
