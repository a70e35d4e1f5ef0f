using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Caching.Hosting;

/// <summary>
/// Tells <see cref="IOptionsMonitor{TOptions}"/> when the <c>Caching</c> configuration section reloads, so that
/// <see cref="CachingOptions.Enabled"/> can be switched at run time. Without configuration, it never changes.
/// </summary>
internal sealed class CachingOptionsChangeTokenSource(IServiceProvider services) : IOptionsChangeTokenSource<CachingOptions>
{
    private readonly IConfiguration? _configuration = services.GetService<IConfiguration>();

    // A token that never fires: there is no configuration to watch.
    private static readonly IChangeToken Never = new CancellationChangeToken(CancellationToken.None);

    public string Name => Options.DefaultName;

    public IChangeToken GetChangeToken()
        => _configuration?.GetReloadToken() ?? Never;
}
