using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;

namespace Caching.AspNetCore;

/// <summary>
/// The action filters the generator made for <c>[Cache]</c> controller actions. Generated module initializers
/// register them; the MVC convention that <c>AddAttributeCaching</c> installs attaches each to its action.
/// </summary>
public static class ControllerCacheRegistry
{
    private static readonly ConcurrentDictionary<ActionIdentity, Func<IServiceProvider, IAsyncActionFilter>> Filters = new();

    /// <summary>Registers the filter of one action. Called by generated code.</summary>
    /// <param name="controllerType">The controller.</param>
    /// <param name="actionMethodName">The action method's name.</param>
    /// <param name="parameterTypes">The action method's parameter types, telling overloads apart.</param>
    /// <param name="createFilter">Creates the filter from the application's services.</param>
    public static void Register(Type controllerType, string actionMethodName, Type[] parameterTypes, Func<IServiceProvider, IAsyncActionFilter> createFilter)
    {
        ArgumentNullException.ThrowIfNull(controllerType);
        ArgumentNullException.ThrowIfNull(actionMethodName);
        ArgumentNullException.ThrowIfNull(parameterTypes);
        ArgumentNullException.ThrowIfNull(createFilter);
        Filters[new ActionIdentity(controllerType, actionMethodName, string.Join(",", parameterTypes.Select(static t => t.FullName)))] = createFilter;
    }

    internal static bool TryGetFilter(Type controllerType, string actionMethodName, IEnumerable<Type> parameterTypes, out Func<IServiceProvider, IAsyncActionFilter> createFilter)
    {
        return Filters.TryGetValue(new ActionIdentity(controllerType, actionMethodName, string.Join(",", parameterTypes.Select(static t => t.FullName))), out createFilter!);
    }

    private readonly record struct ActionIdentity(Type Controller, string Action, string Parameters);
}

/// <summary>Attaches the generated filters to their controller actions.</summary>
internal sealed class CachingApplicationModelConvention : IApplicationModelConvention
{
    public void Apply(ApplicationModel application)
    {
        // Controllers can live in a class library whose code has not run yet: run its module initializer (where
        // the generated registrations are) before looking them up.
        foreach (Module module in application.Controllers.Select(static c => c.ControllerType.Module).Distinct())
        {
            RuntimeHelpers.RunModuleConstructor(module.ModuleHandle);
        }

        foreach (ControllerModel controller in application.Controllers)
        {
            foreach (ActionModel action in controller.Actions)
            {
                IEnumerable<Type> parameterTypes = action.ActionMethod.GetParameters().Select(static p => p.ParameterType);
                if (ControllerCacheRegistry.TryGetFilter(controller.ControllerType.AsType(), action.ActionMethod.Name, parameterTypes, out Func<IServiceProvider, IAsyncActionFilter>? create))
                {
                    action.Filters.Add(new GeneratedFilterFactory(create));
                }
            }
        }
    }

    private sealed class GeneratedFilterFactory(Func<IServiceProvider, IAsyncActionFilter> create) : IFilterFactory
    {
        public bool IsReusable => true;

        public IFilterMetadata CreateInstance(IServiceProvider serviceProvider) => new ActionCacheFilter(create(serviceProvider));
    }

    // The generated action filter, plus the result half: a miss's store and a write's invalidation run around the
    // result's execution, so they see what the result (after result filters such as [Produces]) really sent.
    private sealed class ActionCacheFilter(IAsyncActionFilter generated) : IAsyncActionFilter, IAsyncAlwaysRunResultFilter
    {
        public Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next) => generated.OnActionExecutionAsync(context, next);

        public async Task OnResultExecutionAsync(ResultExecutingContext context, ResultExecutionDelegate next)
        {
            IDictionary<object, object?> items = context.HttpContext.Items;
            if (items.TryGetValue(EndpointCacheRuntime.ResultWorkItem, out object? work) && work is EndpointCacheRuntime.IResultWork pending)
            {
                items.Remove(EndpointCacheRuntime.ResultWorkItem);
                await pending.RunAsync(context.HttpContext, () => next()).ConfigureAwait(false);
                return;
            }

            await next().ConfigureAwait(false);
        }
    }
}

/// <summary>Adds <see cref="CachingApplicationModelConvention"/> to MVC when the application uses controllers.</summary>
internal sealed class CachingMvcOptionsSetup : IConfigureOptions<MvcOptions>
{
    public void Configure(MvcOptions options) => options.Conventions.Add(new CachingApplicationModelConvention());
}
