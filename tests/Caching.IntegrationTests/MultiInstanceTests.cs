using System.Net;
using Caching.IntegrationTests.Infrastructure;
using System.Diagnostics;
using System.Net.Http.Json;
using Caching.IntegrationTests.App;
using Caching.Runtime.Tests.Infrastructure;
using Caching.Stores;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Caching.IntegrationTests;

/// <summary>Several instances of the app against one Redis (or one cluster), sharing one database.</summary>
public sealed class MultiInstanceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_level_mode_a_write_on_A_is_never_followed_by_a_stale_read_on_B_after_the_message_arrives(bool cluster)
    {
        await using IRedisDeployment redis = cluster ? await RedisCluster.StartAsync() : await RedisServer.StartAsync();
        var database = new BlogStore();
        await using TestAppHost a = await TestAppHost.StartAsync(StoreKind.Redis, redis, configure: o => o.LocalCache = true, database: database);
        await using TestAppHost b = await TestAppHost.StartAsync(StoreKind.Redis, redis, configure: o => o.LocalCache = true, database: database);
        var storeB = (TwoLevelCacheStore)b.Services.GetRequiredService<ICacheStore>();
        var delivery = new List<double>();

        for (int i = 0; i < 30; i++)
        {
            int id = i + 1;
            await b.Client.GetAsync($"/posts/{id}");
            Assert.Equal("HIT", (await b.Client.GetAsync($"/posts/{id}")).Headers.GetValues("X-Cache").Single());
            Assert.NotNull(await storeB.Local.GetAsync($"post:{id}"));

            long received = storeB.MessagesReceived;
            HttpResponseMessage put = await a.Client.PutAsJsonAsync($"/posts/{id}?userId=1", new PostUpdate(1, $"fresh {i}"));
            long written = Stopwatch.GetTimestamp();
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (storeB.MessagesReceived == received && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1);
            }

            Assert.True(storeB.MessagesReceived > received, "B never received the invalidation");
            delivery.Add(Math.Max(0, Stopwatch.GetElapsedTime(written, storeB.LastReceivedTimestamp).TotalMilliseconds));
            Post? read = await b.Client.GetFromJsonAsync<Post>($"/posts/{id}");
            Assert.Equal($"fresh {i}", read!.Title);
        }

        delivery.Sort();
        output.WriteLine($"{(cluster ? "cluster" : "single node")}: invalidation delivery after the write's response, ms: p50 {delivery[delivery.Count / 2]:F2}, max {delivery[^1]:F2}");
    }

    [Fact]
    public async Task With_distributed_stampede_protection_500_concurrent_misses_over_three_instances_run_the_handler_once()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        var hosts = new List<TestAppHost>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                hosts.Add(await TestAppHost.StartAsync(StoreKind.Redis, redis, configure: o =>
                {
                    o.DistributedStampedeProtection = true;
                }));
            }

            HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => hosts[i % 3].Client.GetAsync("/reports/9")));

            Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            Assert.Single((await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()))).Distinct());
            Assert.Equal(1, hosts.Sum(h => h.Db.Calls("Report")));
        }
        finally
        {
            foreach (TestAppHost host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }
}
