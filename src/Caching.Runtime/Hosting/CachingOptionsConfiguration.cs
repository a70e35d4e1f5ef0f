using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Caching.Hosting;

/// <summary>Binds <see cref="CachingOptions"/> from the <c>Caching</c> configuration section when the host has configuration.</summary>
internal sealed class CachingOptionsConfiguration(IServiceProvider services) : IConfigureOptions<CachingOptions>
{
    public void Configure(CachingOptions options)
    {
        IConfiguration? configuration = services.GetService<IConfiguration>();
        configuration?.GetSection(CachingOptions.SectionName).Bind(options);
    }
}
