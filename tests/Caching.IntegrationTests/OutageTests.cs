using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Caching.IntegrationTests.App;
using Caching.IntegrationTests.Infrastructure;
using Caching.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit.Abstractions;

namespace Caching.IntegrationTests;

/// <summary>
/// Redis is killed and restarted (with its data, as after a crash) under a bounded loop of reads and writes:
/// the app keeps answering, and once Redis is back no read returns data older than the database.
/// </summary>
public sealed class OutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_redis_crash_under_load_causes_no_5xx_and_no_stale_read_afterwards()
    {
        // appendfsync always: entries written before the crash are back after it, stale unless invalidated.
        RedisServer redis = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        await using TestAppHost host = await TestAppHost.StartAsync(StoreKind.Redis, redis, configure: o =>
        {
            o.CircuitBreakerDuration = TimeSpan.FromMilliseconds(500);
            o.InvalidationRetryInterval = TimeSpan.FromMilliseconds(100);
        });
        try
        {
            HttpClient client = host.Client;
            for (int id = 1; id <= 20; id++)
            {
                (await client.GetAsync($"/posts/{id}")).EnsureSuccessStatusCode();
            }

            var random = new Random(5);
            var normal = new List<double>();
            var outage = new List<double>();
            var after = new List<double>();
            int errors = 0;
            int stale = 0;
            int writes = 0;
            var clock = Stopwatch.StartNew();
            bool killed = false;
            bool restarted = false;
            while (clock.Elapsed < TimeSpan.FromSeconds(6))
            {
                if (!killed && clock.Elapsed > TimeSpan.FromSeconds(1.5))
                {
                    redis.Kill();
                    killed = true;
                }

                if (killed && !restarted && clock.Elapsed > TimeSpan.FromSeconds(3.5))
                {
                    await redis.RestartAsync();
                    restarted = true;
                }

                int postId = random.Next(1, 21);
                long started = Stopwatch.GetTimestamp();
                HttpResponseMessage response;
                if (random.Next(10) == 0)
                {
                    writes++;
                    response = await client.PutAsJsonAsync($"/posts/{postId}?userId=1", new PostUpdate(1, $"title {writes}"));
                }
                else
                {
                    response = await client.GetAsync($"/posts/{postId}");
                    if (response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<Post>())!.Title != host.Db.Posts[postId].Title)
                    {
                        stale++;
                    }
                }

                double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                (restarted ? after : killed ? outage : normal).Add(ms);
                if ((int)response.StatusCode >= 500)
                {
                    errors++;
                }
            }

            output.WriteLine($"requests: {normal.Count} before, {outage.Count} during, {after.Count} after the outage; {writes} writes");
            output.WriteLine($"p50/p99 ms before {P(normal, 50):F2}/{P(normal, 99):F2}, during {P(outage, 50):F2}/{P(outage, 99):F2}, after {P(after, 50):F2}/{P(after, 99):F2}");
            Assert.Equal(0, errors);
            Assert.Equal(0, stale);
            Assert.True(outage.Count > 100, "the loop barely ran during the outage");
            Assert.True(P(outage, 99) < 250, $"p99 during the outage was {P(outage, 99):F1} ms");

            // Every post, read once more now that Redis is back, matches the database.
            for (int id = 1; id <= 20; id++)
            {
                Post post = (await client.GetFromJsonAsync<Post>($"/posts/{id}"))!;
                Assert.Equal(host.Db.Posts[id].Title, post.Title);
            }
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_health_check_follows_the_store_down_and_back()
    {
        RedisServer redis = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        await using TestAppHost host = await TestAppHost.StartAsync(StoreKind.Redis, redis, configure: o =>
        {
            o.CircuitBreakerDuration = TimeSpan.FromMilliseconds(300);
            o.InvalidationRetryInterval = TimeSpan.FromMilliseconds(100);
        });
        try
        {
            var check = ActivatorUtilities.CreateInstance<Caching.Hosting.CacheHealthCheck>(host.Services);
            async Task<HealthStatus> StatusAsync() => (await check.CheckHealthAsync(new HealthCheckContext())).Status;
            await host.Client.GetAsync("/posts/1");
            Assert.Equal(HealthStatus.Healthy, await StatusAsync());

            redis.Kill();
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/posts/1")).StatusCode);
            }

            Assert.Equal(HttpStatusCode.OK, (await host.Client.PutAsJsonAsync("/posts/1?userId=1", new PostUpdate(1, "during"))).StatusCode);
            Assert.Equal(HealthStatus.Unhealthy, await StatusAsync());

            await redis.RestartAsync();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (await StatusAsync() != HealthStatus.Healthy && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.Equal(HealthStatus.Healthy, await StatusAsync());
            Assert.Equal("during", (await host.Client.GetFromJsonAsync<Post>("/posts/1"))!.Title);
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    private static double P(List<double> values, int percentile)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
    }
}
