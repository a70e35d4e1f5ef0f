using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Caching.AspNetCore;

/// <summary>
/// The caching filters the generator made for <c>[Cache]</c> minimal-API handlers when ASP.NET Core's Request
/// Delegate Generator is on (Native AOT, trimming). That generator intercepts the <c>Map*</c> calls, so instead of
/// intercepting them too, generated module initializers register each filter here under the handler's assembly
/// and the file and line of its attribute, and <c>app.UseAttributeCaching()</c> attaches it
/// to the endpoint whose <see cref="CacheAttribute"/> says it was written there.
/// </summary>
public static class MinimalApiCacheRegistry
{
    private static readonly ConcurrentDictionary<(string Assembly, string File, int Line), Registration> Filters = new();

    /// <summary>Registers the caching filter of one endpoint. Called by generated code.</summary>
    /// <param name="assemblyName">The simple name of the assembly that declares the handler.</param>
    /// <param name="sourceFilePath">The file of the endpoint's <c>[Cache]</c>, as the compiler gives it to the attribute.</param>
    /// <param name="sourceLineNumber">The line of the endpoint's <c>[Cache]</c>.</param>
    /// <param name="createFilter">Creates the endpoint's filter.</param>
    /// <param name="addHitPath">Installs the endpoint's hit path once its request delegate exists, or <see langword="null"/>.</param>
    public static void Register(
        string assemblyName,
        string sourceFilePath,
        int sourceLineNumber,
        Func<EndpointFilterFactoryContext, EndpointFilterDelegate, EndpointFilterDelegate> createFilter,
        Action<Microsoft.AspNetCore.Builder.EndpointBuilder>? addHitPath = null)
    {
        ArgumentNullException.ThrowIfNull(assemblyName);
        ArgumentNullException.ThrowIfNull(sourceFilePath);
        ArgumentNullException.ThrowIfNull(createFilter);
        Filters[(assemblyName, sourceFilePath, sourceLineNumber)] = new Registration(createFilter, addHitPath);
    }

    internal static bool IsEmpty => Filters.IsEmpty;

    internal static bool TryGet(System.Reflection.MethodInfo handler, CacheAttribute attribute, out Registration registration)
        => Filters.TryGetValue((handler.Module.Assembly.GetName().Name ?? string.Empty, attribute.SourceFilePath, attribute.SourceLineNumber), out registration!);

    internal sealed record Registration(
        Func<EndpointFilterFactoryContext, EndpointFilterDelegate, EndpointFilterDelegate> CreateFilter,
        Action<Microsoft.AspNetCore.Builder.EndpointBuilder>? AddHitPath);
}
