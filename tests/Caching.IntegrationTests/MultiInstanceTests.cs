using System.Net;
using Caching.IntegrationTests.Infrastructure;
using Caching.Runtime.Tests.Infrastructure;

namespace Caching.IntegrationTests;

/// <summary>Three instances of the app against one Redis.</summary>
public sealed class MultiInstanceTests
{
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
