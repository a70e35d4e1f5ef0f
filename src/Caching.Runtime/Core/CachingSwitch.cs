using Microsoft.Extensions.Options;

namespace Caching;

/// <summary>
/// <see cref="CachingOptions.Enabled"/> as it is now: read from <see cref="IOptionsMonitor{TOptions}"/> once and on
/// every change, so that the hot path reads one field instead of the monitor.
/// </summary>
internal sealed class CachingSwitch : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile bool _enabled;

    /// <summary>A switch that is always on: for an engine built without the options monitor.</summary>
    public static CachingSwitch AlwaysOn { get; } = new();

    private CachingSwitch()
    {
        _enabled = true;
    }

    public CachingSwitch(IOptionsMonitor<CachingOptions> monitor)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        _enabled = monitor.CurrentValue.Enabled;
        _subscription = monitor.OnChange(options => _enabled = options.Enabled);
    }

    /// <summary>Whether reads and stores use the cache right now.</summary>
    public bool IsOn => _enabled;

    public void Dispose() => _subscription?.Dispose();
}
