using Caching.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Caching.Runtime.Tests.Engine;

/// <summary>
/// Concurrent reads of one key in a process share the first one's read, but only what it loaded and stored is handed
/// to the others: a value it merely read may be older than a write another instance finished while the read's reply
/// was on its way, and a request that started after that write returned must not get it.
/// </summary>
public sealed class SharedReadTests
{
    [Fact]
    public async Task A_request_that_joins_a_read_after_a_write_elsewhere_returned_reads_for_itself()
    {
        var store = new GatedStore(new InMemoryCacheStore(Options.Create(new CachingOptions()), TimeProvider.System));
        await store.SetAsync("report:1", "\"old\""u8.ToArray(), TimeSpan.FromMinutes(5));
        await using ServiceProvider services = new ServiceCollection().AddSingleton<ICacheStore>(store).AddAttributeCaching().BuildServiceProvider();
        ICache cache = services.GetRequiredService<ICache>();

        // The first request's read has been answered "old" by the server; the reply is slow to arrive.
        store.HoldNextRead();
        Task<string> first = cache.GetOrCreateAsync("report:1", _ => ValueTask.FromResult("loaded")).AsTask();
        await store.ReadHeld.WaitAsync(TimeSpan.FromSeconds(10));

        // Another instance writes and invalidates; its client's next request lands here and joins the first read.
        await store.SetAsync("report:1", "\"new\""u8.ToArray(), TimeSpan.FromMinutes(5));
        Task<string> second = cache.GetOrCreateAsync("report:1", _ => ValueTask.FromResult("loaded")).AsTask();
        await Task.Delay(100);
        store.ReleaseRead();

        Assert.Equal("old", await first); // it overlapped the write: either is correct for it
        Assert.Equal("new", await second);
    }

    // An in-process store whose next lease-taking read answers at once but hands its reply over only when released.
    private sealed class GatedStore(ICacheStore inner) : ICacheStore
    {
        private TaskCompletionSource? _release;
        private TaskCompletionSource? _held;

        public TaskCompletionSource ReadHeldSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ReadHeld => ReadHeldSource.Task;

        public string Name => inner.Name;

        public void HoldNextRead() => _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ReleaseRead() => _held?.TrySetResult();

        public async ValueTask<LeaseRead> GetOrAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan leaseTimeToLive, CancellationToken cancellationToken = default)
        {
            LeaseRead read = await inner.GetOrAcquireLeaseAsync(key, lease, leaseTimeToLive, cancellationToken);
            if (Interlocked.Exchange(ref _release, null) is { } release)
            {
                _held = release;
                ReadHeldSource.TrySetResult();
                await release.Task;
            }

            return read;
        }

        public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default) => inner.SetAsync(key, value, timeToLive, cancellationToken);

        public ValueTask<TimeSpan?> GetTimeToLiveAsync(string key, CancellationToken cancellationToken = default) => inner.GetTimeToLiveAsync(key, cancellationToken);

        public ValueTask<long> DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default) => inner.DeleteAsync(keys, cancellationToken);

        public ValueTask<PatternDeleteResult> DeleteByPatternAsync(string pattern, CancellationToken cancellationToken = default) => inner.DeleteByPatternAsync(pattern, cancellationToken);

        public ValueTask AddToTagsAsync(string key, IReadOnlyCollection<string> tags, TimeSpan timeToLive, CancellationToken cancellationToken = default) => inner.AddToTagsAsync(key, tags, timeToLive, cancellationToken);

        public ValueTask<long> InvalidateTagAsync(string tag, CancellationToken cancellationToken = default) => inner.InvalidateTagAsync(tag, cancellationToken);

        public ValueTask<bool> TryAcquireLeaseAsync(string key, ReadOnlyMemory<byte> lease, TimeSpan timeToLive, CancellationToken cancellationToken = default) => inner.TryAcquireLeaseAsync(key, lease, timeToLive, cancellationToken);

        public ValueTask<bool> SetIfLeaseAsync(string key, ReadOnlyMemory<byte> lease, ReadOnlyMemory<byte> value, TimeSpan timeToLive, CancellationToken cancellationToken = default) => inner.SetIfLeaseAsync(key, lease, value, timeToLive, cancellationToken);

        public ValueTask ReleaseLeaseAsync(string key, ReadOnlyMemory<byte> lease, CancellationToken cancellationToken = default) => inner.ReleaseLeaseAsync(key, lease, cancellationToken);

        public ValueTask<string?> GetNamespaceVersionAsync(string namespaceName, CancellationToken cancellationToken = default) => inner.GetNamespaceVersionAsync(namespaceName, cancellationToken);

        public ValueTask<bool> TryCreateNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default) => inner.TryCreateNamespaceVersionAsync(namespaceName, version, lifetime, cancellationToken);

        public ValueTask SetNamespaceVersionAsync(string namespaceName, string version, TimeSpan lifetime, CancellationToken cancellationToken = default) => inner.SetNamespaceVersionAsync(namespaceName, version, lifetime, cancellationToken);
    }
}
