using System.Text;
using Caching.AspNetCore;
using Caching.Keys;
using Caching.Runtime.Tests.Infrastructure;

namespace Caching.Runtime.Tests.Engine;

/// <summary>How the entry under test is stored.</summary>
public enum EntryMode
{
    /// <summary>A plain key.</summary>
    Plain,

    /// <summary>A plain key filed under a tag.</summary>
    Tagged,

    /// <summary>A key in a namespace.</summary>
    Namespaced,

    /// <summary>A key in a namespace, filed under a tag.</summary>
    NamespacedTagged,

    /// <summary>A per-user copy (<c>key|user:alice</c>, filed under <c>vary:key</c>) and a tag.</summary>
    VaryByUser,

    /// <summary>A per-user copy in a namespace.</summary>
    VaryByUserNamespaced,
}

/// <summary>What happens while the slow load is paused.</summary>
public enum Change
{
    /// <summary>The key is invalidated (for a per-user copy: the key without the user).</summary>
    Key,

    /// <summary>A pattern matching the key is invalidated.</summary>
    Pattern,

    /// <summary>The entry's tag is invalidated.</summary>
    Tag,

    /// <summary>The entry's namespace is invalidated.</summary>
    Namespace,

    /// <summary>A PUT with WriteThrough stores the fresh value under its own key (the key without a user).</summary>
    WriteThrough,

    /// <summary>Application code stores the fresh value with <see cref="ICache.SetAsync{T}"/>.</summary>
    Set,
}

/// <summary>
/// Issue #12, point 3: a load that started before a change (invalidation by key, pattern, tag or namespace, or a
/// write of a fresh value) never stores its value after it, in every entry mode. Deterministic interleavings: the
/// loader is paused on a gate, the change runs, the loader is released.
/// </summary>
public abstract class NoStaleSetTests : IAsyncLifetime
{
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);

    protected StoreHarness H { get; private set; } = null!;

    public async Task InitializeAsync() => H = await CreateHarnessAsync();

    public async Task DisposeAsync() => await H.DisposeAsync();

    protected abstract Task<StoreHarness> CreateHarnessAsync();

    public static TheoryData<EntryMode, Change, bool> Cases()
    {
        var data = new TheoryData<EntryMode, Change, bool>();
        foreach (EntryMode mode in Enum.GetValues<EntryMode>())
        {
            foreach (Change change in Enum.GetValues<Change>())
            {
                var scenario = Scenario.For(mode);
                if ((change == Change.Tag && scenario.Tag is null) || (change == Change.Namespace && scenario.Namespace is null))
                {
                    continue;
                }

                data.Add(mode, change, false);
                if (scenario.Namespace is not null)
                {
                    // The key still holds an entry of an earlier namespace version when the load starts.
                    data.Add(mode, change, true);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_load_paused_across_a_change_never_stores_its_value(EntryMode mode, Change change, bool staleEnvelope)
    {
        var s = Scenario.For(mode);
        if (staleEnvelope)
        {
            await H.Cache.SetAsync(s.Key, "older", s.Options);
            await H.Cache.InvalidateNamespaceAsync(s.Namespace!);
            Assert.NotNull(await H.Store.GetAsync(s.Key));
        }

        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> slow = H.Cache.GetOrCreateAsync(s.Key, async _ =>
        {
            entered.SetResult();
            await release.Task;
            return "old";
        }, s.Options).AsTask();

        await entered.Task.WaitAsync(GateTimeout);
        await ApplyAsync(s, change);
        release.SetResult();
        Assert.Equal("old", await slow.WaitAsync(GateTimeout));

        byte[]? raw = await H.Store.GetAsync(s.Key);
        Assert.False(raw is not null && raw.AsSpan().EndsWith("\"old\""u8), $"the stale value is stored: {Describe(raw)}");
        CacheResult<string> after = await H.Cache.TryGetAsync<string>(s.Key, s.Options);
        if (FreshAfter(s, change))
        {
            Assert.Equal(new CacheResult<string>(true, "new"), after);
        }
        else
        {
            Assert.False(after.Found, $"served {after.Value} after the change");
        }

        // Nothing is left behind that keeps the key from being cached again.
        int loads = 0;
        Assert.Equal("new", await H.Cache.GetOrCreateAsync(s.Key, _ => { loads++; return ValueTask.FromResult("new"); }, s.Options));
        Assert.Equal("new", await H.Cache.GetOrCreateAsync(s.Key, _ => { loads++; return ValueTask.FromResult("newer"); }, s.Options));
        Assert.Equal(FreshAfter(s, change) ? 0 : 1, loads);
    }

    [Theory]
    [InlineData(EntryMode.Plain)]
    [InlineData(EntryMode.Namespaced)]
    [InlineData(EntryMode.VaryByUserNamespaced)]
    public async Task Two_paused_loads_around_a_change_leave_only_the_later_value(EntryMode mode)
    {
        // Load 1 starts (old data), the key is invalidated, load 2 starts (new data) and finishes first; load 1
        // finishes last and must not overwrite what load 2 stored.
        var s = Scenario.For(mode);
        if (s.Namespace is not null)
        {
            await H.Engine.InvalidateNamespaceAsync(s.Namespace); // the namespace has a version before the loads
        }

        var entered1 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release1 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> first = H.Cache.GetOrCreateAsync(s.Key, async _ =>
        {
            entered1.SetResult();
            await release1.Task;
            return "old";
        }, s.Options).AsTask();
        await entered1.Task.WaitAsync(GateTimeout);

        await H.Engine.InvalidateKeysAsync([s.BaseKey]);
        Assert.Equal("new", await H.Cache.GetOrCreateAsync(s.Key, _ => ValueTask.FromResult("new"), s.Options));

        release1.SetResult();
        Assert.Equal("old", await first.WaitAsync(GateTimeout));
        Assert.Equal(new CacheResult<string>(true, "new"), await H.Cache.TryGetAsync<string>(s.Key, s.Options));
    }

    [Fact]
    public async Task A_namespaced_load_is_not_stored_when_the_namespace_moved_on_even_if_the_key_was_untouched()
    {
        var s = Scenario.For(EntryMode.Namespaced);
        await H.Cache.SetAsync("note:2", "other", s.Options); // the namespace has a version
        CacheLookup lookup = await H.Engine.GetAsync(s.Key, s.Options);
        Assert.True(lookup.HoldsLease);
        Assert.NotNull(lookup.ObservedNamespaceVersion);

        await H.Cache.InvalidateNamespaceAsync(s.Namespace!);
        bool stored = await H.Engine.SetAsync(s.Key, "\"old\""u8.ToArray(), s.Options, lookup);

        Assert.False(stored);
        await H.Engine.ReleaseLeaseAsync(s.Key, lookup);
        Assert.Null(await H.Store.GetAsync(s.Key));
    }

    [Fact]
    public async Task A_namespaced_miss_takes_the_lease_and_a_second_miss_sees_it()
    {
        var s = Scenario.For(EntryMode.Namespaced);
        CacheLookup first = await H.Engine.GetAsync(s.Key, s.Options);
        CacheLookup second = await H.Engine.GetAsync(s.Key, s.Options);

        Assert.True(first.HoldsLease);
        Assert.False(second.HoldsLease);
        Assert.True(second.LeasedByOther);
        Assert.False(await H.Engine.SetAsync(s.Key, "\"second\""u8.ToArray(), s.Options, second));
        Assert.True(await H.Engine.SetAsync(s.Key, "\"first\""u8.ToArray(), s.Options, first));
        Assert.Equal(new CacheResult<string>(true, "first"), await H.Cache.TryGetAsync<string>(s.Key, s.Options));
    }

    [Fact]
    public async Task Without_leases_a_namespaced_load_is_still_stored_under_the_version_it_saw()
    {
        await using StoreHarness plain = await CreateHarnessAsync(o => o.UseLeases = false);
        var s = Scenario.For(EntryMode.Namespaced);
        CacheLookup lookup = await plain.Engine.GetAsync(s.Key, s.Options);
        Assert.False(lookup.HoldsLease);
        Assert.False(lookup.LeasedByOther);

        Assert.True(await plain.Engine.SetAsync(s.Key, "\"v\""u8.ToArray(), s.Options, lookup));
        Assert.Equal(new CacheResult<string>(true, "v"), await plain.Cache.TryGetAsync<string>(s.Key, s.Options));
    }

    protected abstract Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure);

    private static bool FreshAfter(Scenario s, Change change)
        => change == Change.Set || (change == Change.WriteThrough && !s.PerUser);

    private async Task ApplyAsync(Scenario s, Change change)
    {
        switch (change)
        {
            case Change.Key:
                await H.Engine.InvalidateKeysAsync([s.BaseKey], "note");
                break;
            case Change.Pattern:
                await H.Engine.InvalidatePatternAsync(CachePattern.Format($"note:*"), "note");
                break;
            case Change.Tag:
                await H.Engine.InvalidateTagAsync(s.Tag!, "note");
                break;
            case Change.Namespace:
                await H.Engine.InvalidateNamespaceAsync(s.Namespace!, "note");
                break;
            case Change.WriteThrough:
                // What a PUT with WriteThrough does: its own key (never per user) gets the fresh value.
                var written = new CacheEntryOptions { Namespace = s.Namespace, Tags = s.Tag is null ? null : [s.Tag], KeyPrefix = "note", Expiration = s.Options.Expiration };
                await PendingInvalidations.ApplyAsync(H.Engine, new InvalidationSet(s.BaseKey, EntryNamespace: s.Namespace, EntryTags: s.Tag is null ? null : [s.Tag]), "note", ("\"new\""u8.ToArray(), written));
                break;
            case Change.Set:
                await H.Cache.SetAsync(s.Key, "new", s.Options);
                break;
        }
    }

    private static string Describe(byte[]? raw) => raw is null ? "(none)" : Convert.ToHexString(raw) + " " + Encoding.UTF8.GetString(raw);

    private sealed record Scenario(string BaseKey, string Key, string? Namespace, string? Tag, bool PerUser, CacheEntryOptions Options)
    {
        public static Scenario For(EntryMode mode)
        {
            string? space = mode is EntryMode.Namespaced or EntryMode.NamespacedTagged or EntryMode.VaryByUserNamespaced ? "user:7" : null;
            string? tag = mode is EntryMode.Plain or EntryMode.Namespaced ? null : "notes";
            bool perUser = mode is EntryMode.VaryByUser or EntryMode.VaryByUserNamespaced;
            const string baseKey = "note:1";
            string key = perUser ? baseKey + CacheEngine.UserSeparator + KeyEncoding.Encode("alice") : baseKey;
            List<string> tags = tag is null ? [] : [tag];
            if (perUser)
            {
                tags.Add(CacheEngine.VariantTag(baseKey));
            }

            var options = new CacheEntryOptions
            {
                Namespace = space,
                Tags = tags.Count == 0 ? null : tags,
                KeyPrefix = "note",
                Expiration = TimeSpan.FromMinutes(5),
            };
            return new Scenario(baseKey, key, space, tag, perUser, options);
        }
    }
}

public sealed class InMemoryNoStaleSetTests : NoStaleSetTests
{
    protected override Task<StoreHarness> CreateHarnessAsync() => Task.FromResult<StoreHarness>(InMemoryHarness.Create());

    protected override Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => Task.FromResult<StoreHarness>(InMemoryHarness.Create(configure));
}

[Collection("redis")]
public sealed class RedisNoStaleSetTests(RedisFixture redis) : NoStaleSetTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server);

    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure) => await RedisHarness.CreateAsync(redis.Server, configure);
}

[Collection("redis")]
public sealed class TwoLevelNoStaleSetTests(RedisFixture redis) : NoStaleSetTests
{
    protected override async Task<StoreHarness> CreateHarnessAsync() => await RedisHarness.CreateAsync(redis.Server, o => o.LocalCache = true);

    protected override async Task<StoreHarness> CreateHarnessAsync(Action<CachingOptions> configure)
        => await RedisHarness.CreateAsync(redis.Server, o =>
        {
            o.LocalCache = true;
            configure(o);
        });
}
