using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Caching.Runtime.Tests.Hosting;

public sealed class RegistrationTests
{
    [Fact]
    public void Without_redis_the_in_process_store_is_used()
    {
        using ServiceProvider services = new ServiceCollection().AddAttributeCaching().BuildServiceProvider();

        Assert.IsType<InMemoryCacheStore>(services.GetRequiredService<ICacheStore>());
        Assert.NotNull(services.GetRequiredService<ICache>());
    }

    [Theory]
    [InlineData("MaxKeyLength", "0", "Caching:MaxKeyLength is 0")]
    [InlineData("ScanPageSize", "1", "Caching:ScanPageSize is 1")]
    [InlineData("DeleteBatchSize", "0", "Caching:DeleteBatchSize is 0")]
    [InlineData("InternalKeyPrefix", "cache*", "contains a glob character")]
    [InlineData("InternalKeyPrefix", "{cache}:", "contains a brace")]
    [InlineData("DefaultExpiration", "-00:00:01", "Caching:DefaultExpiration")]
    [InlineData("UseRegisteredRedis", "true", "none is registered")]
    [InlineData("ExpirationJitter", "1.5", "Caching:ExpirationJitter is 1.5")]
    [InlineData("Redis", "127.0.0.1:6379,nonsense=1", "not a valid StackExchange.Redis connection string")]
    [InlineData("MaximumBodySize", "0", "Caching:MaximumBodySize is 0")]
    [InlineData("InMemorySizeLimit", "0", "Caching:InMemorySizeLimit is 0")]
    [InlineData("InMemorySizeLimit", "-1", "Caching:InMemorySizeLimit is -1")]
    public void Bad_options_fail_at_start_up_with_a_message_that_says_what_to_fix(string key, string value, string message)
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Caching:{key}"] = value })
            .Build();
        using ServiceProvider services = new ServiceCollection()
            .AddSingleton(configuration)
            .AddAttributeCaching()
            .BuildServiceProvider();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Code_configuration_is_validated_too()
    {
        using ServiceProvider services = new ServiceCollection()
            .AddAttributeCaching(o => o.MaxKeyLength = 3)
            .BuildServiceProvider();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("MaxKeyLength", error.Message);
    }

    [Fact]
    public void InMemorySizeLimit_is_bound_from_configuration_and_bounds_the_store()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Caching:InMemorySizeLimit"] = "1048576" })
            .Build();
        using ServiceProvider services = new ServiceCollection()
            .AddSingleton(configuration)
            .AddAttributeCaching()
            .BuildServiceProvider();
        services.GetRequiredService<IStartupValidator>().Validate();

        Assert.Equal(1_048_576, services.GetRequiredService<IOptions<CachingOptions>>().Value.InMemorySizeLimit);
        Assert.Equal(1_048_576, ((InMemoryCacheStore)services.GetRequiredService<ICacheStore>()).Policy.Limit);
    }

    [Fact]
    public void InMemorySizeLimit_defaults_to_the_smaller_of_256_MB_and_a_quarter_of_the_available_memory()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

        Assert.Equal(Math.Min(256L * 1024 * 1024, available / 4), new CachingOptions().InMemorySizeLimit);
    }

    [Fact]
    public void UseRedis_rejects_an_empty_connection_string()
    {
        Assert.Throws<ArgumentException>(() => new CachingOptions().UseRedis(" "));
    }
}

[Collection("redis")]
public sealed class RedisRegistrationTests(RedisFixture redis)
{
    [Fact]
    public async Task The_Caching_Redis_setting_switches_to_redis()
    {
        await redis.Server.FlushAsync();
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Caching:Redis"] = redis.Server.ConnectionString })
            .Build();
        await using ServiceProvider services = new ServiceCollection()
            .AddSingleton(configuration)
            .AddAttributeCaching()
            .BuildServiceProvider();
        services.GetRequiredService<IStartupValidator>().Validate();

        Assert.IsType<RedisCacheStore>(services.GetRequiredService<ICacheStore>());
        await services.GetRequiredService<ICache>().SetAsync("post:5", 5);
        Assert.True(await redis.Server.Connection.GetDatabase().KeyExistsAsync("post:5"));
    }

    [Fact]
    public async Task InMemorySizeLimit_bounds_the_local_level_of_two_level_mode()
    {
        await redis.Server.FlushAsync();
        await using ServiceProvider services = new ServiceCollection()
            .AddAttributeCaching(o =>
            {
                o.UseRedis(redis.Server.ConnectionString);
                o.LocalCache = true;
                o.InMemorySizeLimit = 4096;
            })
            .BuildServiceProvider();
        var store = Assert.IsType<TwoLevelCacheStore>(services.GetRequiredService<ICacheStore>());
        Assert.Equal(4096, store.Local.Policy.Limit);

        await store.SetAsync("post:small", new byte[100], TimeSpan.FromMinutes(5));
        await store.SetAsync("post:big", new byte[8192], TimeSpan.FromMinutes(5));

        // The small copy is held locally; the one larger than the limit only in Redis, and still served from there.
        Assert.Equal(["post:small"], store.Local.LiveKeys());
        Assert.Equal(8192, (await store.GetAsync("post:big"))!.Length);
        Assert.Equal(["post:small"], store.Local.LiveKeys());
    }

    [Fact]
    public async Task UseRedis_with_a_connection_string_connects()
    {
        await redis.Server.FlushAsync();
        await using ServiceProvider services = new ServiceCollection()
            .AddAttributeCaching(o => o.UseRedis(redis.Server.ConnectionString))
            .BuildServiceProvider();

        await services.GetRequiredService<ICache>().SetAsync("post:6", 6);

        Assert.True(await redis.Server.Connection.GetDatabase().KeyExistsAsync("post:6"));
    }

    [Fact]
    public async Task A_registered_multiplexer_is_reused_and_not_disposed()
    {
        ConnectionMultiplexer client = await ConnectionMultiplexer.ConnectAsync(redis.Server.ClientConfiguration());
        await using (ServiceProvider services = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(client)
            .AddAttributeCaching(o => o.UseRedis("127.0.0.1:1"))
            .BuildServiceProvider())
        {
            var store = Assert.IsType<RedisCacheStore>(services.GetRequiredService<ICacheStore>());
            Assert.Same(client, store.Connection);
        }

        Assert.True(client.IsConnected);
        await client.DisposeAsync();
    }
}
