using System.Buffers;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace Caching.Runtime.Tests.Hybrid;

/// <summary>
/// A custom serializer's bytes that start like the cache's own formats (0xCA: a lease, a timed or namespaced entry,
/// an envelope; MessagePack's float32 starts so) come back as written, on every store.
/// </summary>
public abstract class HybridRawBytesTests
{
    /// <summary>Writes the value's bytes as they are.</summary>
    private sealed class RawSerializer : IHybridCacheSerializer<byte[]>
    {
        public byte[] Deserialize(ReadOnlySequence<byte> source) => source.ToArray();

        public void Serialize(byte[] value, IBufferWriter<byte> target) => target.Write(value);
    }

    protected abstract Task<StoreHarness> CreateAsync(Action<IServiceCollection> register);

    public static TheoryData<byte[]> LookAlikes() => new()
    {
        new byte[] { 0xCA, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }, // a lease's shape, 18 bytes
        new byte[] { 0xCA, 0x07 }.Concat(BitConverter.GetBytes(long.MaxValue)).Concat(BitConverter.GetBytes(long.MaxValue)).Concat(new byte[] { 42 }).ToArray(), // a timed entry's
        new byte[] { 0xCA, 0x01, 3, 0x61, 0x62, 0x63, 7 }, // a namespaced entry's
        new byte[] { 0xCA, 0x05, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 9 }, // an envelope's
        new byte[] { 0xCA, 0x40, 0x49, 0x0F, 0xDB }, // MessagePack float32 3.1415927
    };

    [Theory]
    [MemberData(nameof(LookAlikes))]
    public async Task Bytes_that_look_like_the_caches_own_formats_round_trip(byte[] value)
    {
        await using StoreHarness harness = await CreateAsync(s => s.AddSingleton<IHybridCacheSerializer<byte[]>>(new RawSerializer()));
        HybridCache hybrid = harness.Services.GetRequiredService<HybridCache>();
        int calls = 0;

        byte[] first = await hybrid.GetOrCreateAsync("raw:1", _ => { calls++; return ValueTask.FromResult(value); });
        byte[] second = await hybrid.GetOrCreateAsync("raw:1", _ => { calls++; return ValueTask.FromResult(new byte[] { 0 }); });
        await hybrid.SetAsync("raw:2", value);
        byte[] third = await hybrid.GetOrCreateAsync("raw:2", _ => { calls++; return ValueTask.FromResult(new byte[] { 0 }); });

        Assert.Equal(value, first);
        Assert.Equal(value, second);
        Assert.Equal(value, third);
        Assert.Equal(1, calls); // both were hits
        Assert.Equal(2, await harness.Cache.InvalidateAllAsync()); // stored as entries, not taken for leases
    }
}

public sealed class InMemoryHybridRawBytesTests : HybridRawBytesTests
{
    protected override Task<StoreHarness> CreateAsync(Action<IServiceCollection> register) => Task.FromResult<StoreHarness>(InMemoryHarness.Create(register: register));
}

[Collection("redis")]
public sealed class RedisHybridRawBytesTests(RedisFixture redis) : HybridRawBytesTests
{
    protected override async Task<StoreHarness> CreateAsync(Action<IServiceCollection> register) => await RedisHarness.CreateAsync(redis.Server, register: register);
}
