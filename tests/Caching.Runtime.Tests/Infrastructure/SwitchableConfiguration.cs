using Microsoft.Extensions.Configuration;

namespace Caching.Runtime.Tests.Infrastructure;

/// <summary>
/// A configuration source whose values a test changes at run time, raising the reload that
/// <c>IOptionsMonitor</c> listens to (as a reloaded appsettings.json would).
/// </summary>
public sealed class SwitchableConfiguration : IConfigurationSource
{
    private readonly Provider _provider = new();

    /// <summary>Sets <paramref name="key"/> and raises a reload.</summary>
    public void Set(string key, string? value) => _provider.Put(key, value);

    /// <summary>Sets <c>Caching:Enabled</c>.</summary>
    public void SetCachingEnabled(bool enabled) => Set("Caching:Enabled", enabled ? "true" : "false");

    public IConfigurationProvider Build(IConfigurationBuilder builder) => _provider;

    private sealed class Provider : ConfigurationProvider
    {
        public void Put(string key, string? value)
        {
            Data[key] = value;
            OnReload();
        }
    }
}
