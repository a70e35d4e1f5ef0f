using Microsoft.AspNetCore.Mvc.Filters;

namespace Caching.AspNetCore;

/// <summary>Typed access to a controller action's bound arguments, for generated action filters.</summary>
public static class ActionArguments
{
    /// <summary>Returns the argument bound to <paramref name="name"/>, or <paramref name="unbound"/> when it was not bound.</summary>
    /// <typeparam name="T">The parameter's type.</typeparam>
    /// <param name="context">The action filter context.</param>
    /// <param name="name">The parameter's name.</param>
    /// <param name="unbound">What the action itself receives when nothing is bound: the parameter's default value.</param>
    /// <returns>The argument.</returns>
    public static T Get<T>(ActionExecutingContext context, string name, T unbound = default!)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ActionArguments.TryGetValue(name, out object? value) && value is T typed ? typed : unbound;
    }
}
