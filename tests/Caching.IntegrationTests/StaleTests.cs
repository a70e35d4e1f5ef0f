using System.Net;
using Caching.IntegrationTests.App;
using Caching.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Caching.IntegrationTests;

/// <summary>
/// Stale-if-error and stale-while-revalidate on endpoints, served by the hit path and through the caching filter, on
/// every store: the uncached handler's failure is answered with the stored response (marked stale) within the
/// window only, a stale response is served at once while one request reloads, and a write's invalidation removes
/// the stale copy.
/// </summary>
public abstract class StaleEndpointTests : IAsyncLifetime
{
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));
    private TestAppHost _host = null!;

    protected abstract StoreKind Store { get; }

    private HttpClient Client => _host.Client;

    private BlogStore Db => _host.Db;

    public async Task InitializeAsync() => _host = await TestAppHost.StartAsync(Store, map: StaleEndpoints.Map, time: _time, configure: o =>
    {
        o.ExpirationJitter = 0;
        o.SoftTimeout = TimeSpan.FromSeconds(2);
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("/stale/3")]
    [InlineData("/stale-filtered/3")]
    [InlineData("/api/stale/3")] // a controller action
    public async Task A_reload_that_throws_within_the_window_is_answered_with_the_stored_response_marked_stale(string path)
    {
        HttpResponseMessage stored = await Client.GetAsync(path);
        string body = await stored.Content.ReadAsStringAsync();
        _time.Advance(TimeSpan.FromSeconds(90));
        Db.OriginDown = true;

        for (int i = 0; i < 2; i++)
        {
            HttpResponseMessage stale = await Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Equal(body, await stale.Content.ReadAsStringAsync());
            Assert.Equal("STALE", Header(stale, "X-Cache"));
            Assert.Equal("Caching; fwd=stale; fwd-status=500; ttl=-30", Header(stale, "Cache-Status")); // expired 30 s ago
            Assert.Equal(Header(stored, "ETag"), Header(stale, "ETag"));
            Assert.Equal("application/json; charset=utf-8", stale.Content.Headers.ContentType!.ToString());
            Assert.False(stale.Headers.Contains("X-Failure")); // set by the failing action: dropped
        }

        // The origin is back: the next request reloads and stores what it reads now.
        Db.OriginDown = false;
        Db.Posts[3] = Db.Posts[3] with { Title = "after the outage" };
        HttpResponseMessage reloaded = await Client.GetAsync(path);
        Assert.Equal("MISS", Header(reloaded, "X-Cache"));
        Assert.Contains("after the outage", await reloaded.Content.ReadAsStringAsync());
        Assert.Equal("HIT", Header(await Client.GetAsync(path), "X-Cache"));
    }

    [Theory]
    [InlineData("/stale-503/4")]
    [InlineData("/api/stale/503/4")] // a controller action whose result answers 503
    public async Task A_reload_that_answers_5xx_is_answered_with_the_stored_response_without_the_failures_headers(string path)
    {
        HttpResponseMessage stored = await Client.GetAsync(path);
        _time.Advance(TimeSpan.FromSeconds(90));
        Db.OriginDown = true;

        HttpResponseMessage stale = await Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal(await stored.Content.ReadAsStringAsync(), await stale.Content.ReadAsStringAsync());
        Assert.Equal("Caching; fwd=stale; fwd-status=503; ttl=-30", Header(stale, "Cache-Status"));
        Assert.False(stale.Headers.Contains("X-Failure"));
    }

    [Fact]
    public async Task Past_the_window_or_without_a_stored_response_the_failure_goes_through()
    {
        await Client.GetAsync("/stale-503/5");
        _time.Advance(TimeSpan.FromSeconds(60 + 600 + 1));
        Db.OriginDown = true;

        HttpResponseMessage past = await Client.GetAsync("/stale-503/5");
        HttpResponseMessage never = await Client.GetAsync("/stale-503/6");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, past.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, never.StatusCode);
        Assert.Equal("origin", Header(past, "X-Failure"));
    }

    [Fact]
    public async Task After_a_write_the_stale_copy_is_gone_and_the_failure_goes_through()
    {
        await Client.GetAsync("/stale/7");
        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.PutAsync("/stale/7?title=changed", null)).StatusCode);
        Db.OriginDown = true;

        HttpResponseMessage response = await Client.GetAsync("/stale/7");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain("Post 7", await response.Content.ReadAsStringAsync());
    }

    // Controller actions without a stale answer: the failure goes through as it would uncached.
    [Fact]
    public async Task A_controller_action_fails_as_before_past_the_window_without_one_and_after_a_write()
    {
        await Client.GetAsync("/api/stale/12");
        await Client.GetAsync("/api/stale/503/12");
        await Client.GetAsync("/api/stale/13");
        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.PutAsync("/api/stale/13?title=changed", null)).StatusCode);
        Db.OriginDown = true;

        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/api/stale/12")).StatusCode); // within the window
        Assert.Equal(HttpStatusCode.InternalServerError, (await Client.GetAsync("/api/stale/none/12")).StatusCode); // an action without a window
        HttpResponseMessage written = await Client.GetAsync("/api/stale/13"); // invalidated by the write: nothing stale
        Assert.Equal(HttpStatusCode.InternalServerError, written.StatusCode);
        Assert.DoesNotContain("Post 13", await written.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.InternalServerError, (await Client.GetAsync("/api/stale/14")).StatusCode); // never stored

        // A client that does not accept the stored content type gets the failure, as on a hit it gets the action's own.
        foreach ((string path, HttpStatusCode failure) in new[] { ("/api/stale/12", HttpStatusCode.InternalServerError), ("/api/stale/503/12", HttpStatusCode.ServiceUnavailable) })
        {
            var xml = new HttpRequestMessage(HttpMethod.Get, path);
            xml.Headers.Accept.ParseAdd("application/xml");
            Assert.Equal(failure, (await Client.SendAsync(xml)).StatusCode);
        }

        _time.Advance(TimeSpan.FromSeconds(600));
        Assert.Equal(HttpStatusCode.InternalServerError, (await Client.GetAsync("/api/stale/12")).StatusCode); // past the window
    }

    [Theory]
    [InlineData("/swr/8", "Swr")]
    [InlineData("/swr-filtered/8", "SwrFiltered")]
    public async Task Within_the_revalidate_window_others_get_the_stored_response_at_once_while_one_request_reloads(string path, string counter)
    {
        string before = await (await Client.GetAsync(path)).Content.ReadAsStringAsync();
        Db.Posts[8] = Db.Posts[8] with { Title = "reloaded" };
        _time.Advance(TimeSpan.FromSeconds(90));
        Db.ReloadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Db.ReloadEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<HttpResponseMessage> reload = Client.GetAsync(path);
        await Db.ReloadEntered.Task.WaitAsync(GateTimeout);
        HttpResponseMessage[] others = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Client.GetAsync(path))).WaitAsync(GateTimeout);

        foreach (HttpResponseMessage other in others)
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            Assert.Equal(before, await other.Content.ReadAsStringAsync());
            Assert.Equal("STALE", Header(other, "X-Cache"));
            Assert.Equal("Caching; hit; ttl=-30", Header(other, "Cache-Status"));
        }

        Assert.Equal(2, Db.Calls(counter));
        Assert.False(reload.IsCompleted);
        Db.ReloadGate.SetResult();
        HttpResponseMessage reloaded = await reload.WaitAsync(GateTimeout);
        Assert.Contains("reloaded", await reloaded.Content.ReadAsStringAsync());

        HttpResponseMessage hit = await Client.GetAsync(path);
        Assert.Equal("HIT", Header(hit, "X-Cache"));
        Assert.Contains("reloaded", await hit.Content.ReadAsStringAsync());
        Assert.Equal(2, Db.Calls(counter));
    }

    [Fact]
    public async Task A_write_during_a_reload_wins_over_both_the_stale_copy_and_the_reload()
    {
        await Client.GetAsync("/swr/9");
        _time.Advance(TimeSpan.FromSeconds(90));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Db.ReloadGate = gate;
        Db.ReloadEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<HttpResponseMessage> reload = Client.GetAsync("/swr/9");
        await Db.ReloadEntered.Task.WaitAsync(GateTimeout);
        Db.ReloadGate = null;

        Assert.Equal(HttpStatusCode.NoContent, (await Client.PutAsync("/swr/9?title=written", null)).StatusCode);

        // After the write returned: neither the stale copy nor the paused reload's value.
        HttpResponseMessage after = await Client.GetAsync("/swr/9");
        Assert.Contains("written", await after.Content.ReadAsStringAsync());
        Assert.Equal("MISS", Header(after, "X-Cache"));

        gate.SetResult();
        HttpResponseMessage paused = await reload.WaitAsync(GateTimeout);
        Assert.Contains("Post 9", await paused.Content.ReadAsStringAsync()); // read before the write: answers its own request only
        for (int i = 0; i < 3; i++)
        {
            HttpResponseMessage later = await Client.GetAsync("/swr/9");
            Assert.Contains("written", await later.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData("/slow/10")]
    [InlineData("/api/stale/slow/10")] // a controller action
    public async Task A_reload_slower_than_the_soft_timeout_is_answered_with_the_stored_response_and_stores_its_own_when_done(string path)
    {
        string before = await (await Client.GetAsync(path)).Content.ReadAsStringAsync();
        Db.Posts[10] = Db.Posts[10] with { Title = "reloaded" };
        _time.Advance(TimeSpan.FromSeconds(90));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Db.ReloadGate = gate;
        Db.ReloadEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<HttpResponseMessage> slow = Client.GetAsync(path);
        await Db.ReloadEntered.Task.WaitAsync(GateTimeout);
        Assert.False(slow.IsCompleted);
        for (int i = 0; i < 300 && !slow.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1)); // the soft timeout is 2 s, on the app's clock
            await Task.Delay(10);
        }

        HttpResponseMessage stale = await slow.WaitAsync(GateTimeout);

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal(before, await stale.Content.ReadAsStringAsync());
        Assert.Equal("STALE", Header(stale, "X-Cache"));
        Assert.Matches("^Caching; fwd=stale; ttl=-[0-9]+; detail=soft-timeout$", Header(stale, "Cache-Status"));

        // The handler goes on; what it sends is stored when it ends.
        Db.ReloadGate = null;
        gate.SetResult();
        string? body = null;
        for (int i = 0; i < 100 && body?.Contains("reloaded", StringComparison.Ordinal) != true; i++)
        {
            body = await (await Client.GetAsync(path)).Content.ReadAsStringAsync();
        }

        HttpResponseMessage hit = await Client.GetAsync(path);
        Assert.Equal("HIT", Header(hit, "X-Cache"));
        Assert.Contains("reloaded", await hit.Content.ReadAsStringAsync());
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out IEnumerable<string>? values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;
}

public sealed class EmbeddedStoreStaleEndpointTests : StaleEndpointTests
{
    protected override StoreKind Store => StoreKind.Embedded;
}

public sealed class RedisStoreStaleEndpointTests : StaleEndpointTests
{
    protected override StoreKind Store => StoreKind.Redis;
}

public sealed class RedisClusterStaleEndpointTests : StaleEndpointTests
{
    protected override StoreKind Store => StoreKind.RedisCluster;
}
