using System.Buffers;
using System.Text;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.Runtime.Tests.Hybrid;

/// <summary>A <see cref="HybridCache"/> under test: ours over one of our stores, or Microsoft's own.</summary>
public sealed class HybridSubject : IAsyncDisposable
{
    private readonly Func<TimeSpan, Task> _advance;
    private readonly IAsyncDisposable _owner;

    private HybridSubject(IServiceProvider services, Func<TimeSpan, Task> advance, TimeSpan shortTtl, IAsyncDisposable owner, StoreHarness? harness)
    {
        Services = services;
        _advance = advance;
        ShortTtl = shortTtl;
        _owner = owner;
        Harness = harness;
    }

    public IServiceProvider Services { get; }

    public HybridCache Cache => Services.GetRequiredService<HybridCache>();

    /// <summary>Our store harness; null for Microsoft's implementation.</summary>
    public StoreHarness? Harness { get; }

    /// <summary>A time to live short enough to wait out in a test.</summary>
    public TimeSpan ShortTtl { get; }

    /// <summary>Lets time pass: fake time for our in-process store, real time otherwise.</summary>
    public Task AdvanceAsync(TimeSpan duration) => _advance(duration);

    /// <summary>Ours, over a store harness.</summary>
    public static HybridSubject Ours(StoreHarness harness)
        => new(harness.Services, harness.AdvanceAsync, harness.ShortTtl, harness, harness);

    /// <summary>Microsoft's implementation (<c>AddHybridCache()</c>): its default in-memory local level, no distributed one.</summary>
    public static HybridSubject Microsofts(Action<IServiceCollection>? register = null)
    {
        var services = new ServiceCollection();
        services.AddHybridCache();
        register?.Invoke(services);
        ServiceProvider provider = services.BuildServiceProvider();
        return new HybridSubject(provider, Task.Delay, TimeSpan.FromMilliseconds(400), provider, null);
    }

    public ValueTask DisposeAsync() => _owner.DisposeAsync();
}

/// <summary>A value the contract tests store: a mutable class, so that Microsoft's local level serializes it too.</summary>
public sealed class Report
{
    public string Name { get; set; } = "";

    public int Version { get; set; }

    /// <summary>Set by <see cref="MarkingReportSerializer"/> when it read the value.</summary>
    public string? ReadBy { get; set; }
}

/// <summary>An application's own serializer: a line of text, counted in both directions, marking what it reads.</summary>
public sealed class MarkingReportSerializer : IHybridCacheSerializer<Report>
{
    public int Serialized;

    public int Deserialized;

    public Report Deserialize(ReadOnlySequence<byte> source)
    {
        Interlocked.Increment(ref Deserialized);
        string[] parts = Encoding.UTF8.GetString(source.ToArray()).Split('|');
        return new Report { Name = parts[0], Version = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), ReadBy = "marking" };
    }

    public void Serialize(Report value, IBufferWriter<byte> target)
    {
        Interlocked.Increment(ref Serialized);
        target.Write(Encoding.UTF8.GetBytes(FormattableString.Invariant($"{value.Name}|{value.Version}")));
    }
}

/// <summary>A factory that serves <see cref="MarkingReportSerializer"/> for <see cref="Report"/> only.</summary>
public sealed class MarkingFactory(MarkingReportSerializer serializer) : IHybridCacheSerializerFactory
{
    public bool TryCreateSerializer<T>([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IHybridCacheSerializer<T>? created)
    {
        created = serializer as IHybridCacheSerializer<T>;
        return created is not null;
    }
}
