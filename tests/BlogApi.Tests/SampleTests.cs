using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StackExchange.Redis;

namespace BlogApi.Tests;

public sealed record PostDto(int Id, int AuthorId, int CategoryId, string Title, string Body, int Views, DateTime CreatedAt);

public sealed record PostSummary(int Id, int AuthorId, int CategoryId, string Title, DateTime CreatedAt);

public sealed record UserProfileDto(int Id, string Name, string Bio, int PostCount);

public sealed record CategoryDto(int Id, string Name, string Slug);

public sealed record CommentDto(int Id, int PostId, int AuthorId, string Text, DateTime CreatedAt);

public sealed record AuthorRank(int AuthorId, string Name, int Posts, long Views, int Comments);

public sealed record AuthorHighlights(int AuthorId, PostSummary[] Latest, DateTime ComputedAt);

public sealed record KeyPrefixStatistics(string KeyPrefix, long Hits, long Misses, long Sets, long Invalidations, long KeysDeleted, double HitRate);

public abstract class SampleFixture : IAsyncLifetime
{
    public SampleHost Host { get; private set; } = null!;

    protected abstract bool UseRedis { get; }

    public virtual async Task InitializeAsync() => Host = await SampleHost.StartAsync(UseRedis);

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
    }
}

public sealed class EmbeddedSampleFixture : SampleFixture
{
    protected override bool UseRedis => false;
}

public sealed class RedisSampleFixture : SampleFixture
{
    protected override bool UseRedis => true;
}

/// <summary>
/// Every caching pattern of the sample, end to end over HTTP: a write followed by a read never returns the old
/// data; warmed keys are hits; bad requests invalidate nothing. Each test uses its own ids, so the tests share
/// one running sample.
/// </summary>
public abstract class SampleTests(SampleFixture fixture)
{
    private HttpClient Client => fixture.Host.Client;

    [Fact]
    public async Task A_post_update_refreshes_the_post_and_every_list_it_appears_in()
    {
        PostDto post = (await Client.GetFromJsonAsync<PostDto>("/posts/40"))!;
        Assert.Equal("HIT", await CacheStatusAsync("/posts/40"));
        await Client.GetAsync($"/users/{post.AuthorId}/posts");
        await Client.GetAsync($"/categories/{post.CategoryId}/posts");
        await Client.GetAsync("/posts/recent");

        HttpResponseMessage put = await Client.PutAsJsonAsync("/posts/40", new { post.AuthorId, post.CategoryId, Title = "Updated forty", post.Body });

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("Updated forty", (await Client.GetFromJsonAsync<PostDto>("/posts/40"))!.Title);
        Assert.Contains((await Client.GetFromJsonAsync<PostSummary[]>($"/users/{post.AuthorId}/posts"))!, p => p.Id == 40 && p.Title == "Updated forty");
        Assert.Equal("MISS", await CacheStatusAsync($"/categories/{post.CategoryId}/posts"));
        Assert.Equal("MISS", await CacheStatusAsync("/posts/recent"));
    }

    [Fact]
    public async Task Page_two_of_an_authors_list_and_search_results_are_fresh_after_a_write()
    {
        AuthorRank author = (await Client.GetFromJsonAsync<AuthorRank[]>("/reports/top-authors"))!.First(a => a.Posts >= 4);
        PostSummary[] page2 = (await Client.GetFromJsonAsync<PostSummary[]>($"/users/{author.AuthorId}/posts/pages/2"))!;
        Assert.NotEmpty(page2);
        Assert.Equal("HIT", await CacheStatusAsync($"/users/{author.AuthorId}/posts/pages/2"));
        PostDto target = (await Client.GetFromJsonAsync<PostDto>($"/posts/{page2[0].Id}"))!;
        string word = target.Title.Split(' ').Last();
        PostSummary[] search = (await Client.GetFromJsonAsync<PostSummary[]>($"/search?q={word}&page=1"))!;
        await Client.GetFromJsonAsync<PostSummary[]>($"/search?q={word}&page=2");

        string title = target.Title + " (revised)";
        (await Client.PutAsJsonAsync($"/posts/{target.Id}", new { target.AuthorId, target.CategoryId, Title = title, target.Body })).EnsureSuccessStatusCode();

        Assert.Contains((await Client.GetFromJsonAsync<PostSummary[]>($"/users/{author.AuthorId}/posts/pages/2"))!, p => p.Id == target.Id && p.Title == title);
        Assert.Equal("MISS", await CacheStatusAsync($"/search?q={word}&page=1"));
        Assert.Equal("MISS", await CacheStatusAsync($"/search?q={word}&page=2"));
        PostSummary[] fresh = (await Client.GetFromJsonAsync<PostSummary[]>($"/search?q={word}&page=1"))!;
        Assert.DoesNotContain(fresh, p => p.Id == target.Id && p.Title != title);
        Assert.Equal(search.Length, fresh.Length);
    }

    [Fact]
    public async Task Moving_a_post_refreshes_both_category_lists()
    {
        PostDto post = (await Client.GetFromJsonAsync<PostDto>("/posts/41"))!;
        int to = post.CategoryId % 12 + 1;
        await Client.GetAsync($"/categories/{post.CategoryId}/posts");
        await Client.GetAsync($"/categories/{to}/posts");
        await Client.GetAsync($"/users/{post.AuthorId}/posts");

        Assert.Equal(HttpStatusCode.Conflict, (await Client.PostAsJsonAsync("/posts/41/move", new { AuthorId = post.AuthorId + 1, From = post.CategoryId, To = to })).StatusCode);
        Assert.Equal("HIT", await CacheStatusAsync($"/users/{post.AuthorId}/posts"));
        (await Client.PostAsJsonAsync("/posts/41/move", new { post.AuthorId, From = post.CategoryId, To = to })).EnsureSuccessStatusCode();

        Assert.Contains((await Client.GetFromJsonAsync<PostSummary[]>($"/users/{post.AuthorId}/posts"))!, p => p.Id == 41 && p.CategoryId == to);
        Assert.DoesNotContain((await Client.GetFromJsonAsync<PostSummary[]>($"/categories/{post.CategoryId}/posts"))!, p => p.Id == 41);
        Assert.Equal("MISS", await CacheStatusAsync($"/categories/{to}/posts"));
        Assert.Equal(to, (await Client.GetFromJsonAsync<PostDto>("/posts/41"))!.CategoryId);
    }

    [Fact]
    public async Task Renaming_a_category_invalidates_everything_filed_under_its_tag()
    {
        await Client.GetAsync("/categories/6/posts");
        await Client.GetAsync("/categories/7/posts");
        Assert.Equal("HIT", await CacheStatusAsync("/categories/6"));
        Assert.Equal("HIT", await CacheStatusAsync("/categories/6/posts"));

        (await Client.PutAsJsonAsync("/categories/6", new { Name = "Renamed six" })).EnsureSuccessStatusCode();

        Assert.Equal("Renamed six", (await Client.GetFromJsonAsync<CategoryDto>("/categories/6"))!.Name);
        Assert.Contains((await Client.GetFromJsonAsync<CategoryDto[]>("/categories"))!, c => c.Id == 6 && c.Name == "Renamed six");
        Assert.Equal("MISS", await CacheStatusAsync("/categories/6/posts"));
        Assert.Equal("MISS", await CacheStatusAsync("/categories/7"));
        Assert.Equal("HIT", await CacheStatusAsync("/categories/7/posts"));
    }

    [Fact]
    public async Task Renaming_a_user_invalidates_their_namespace_at_once()
    {
        await Client.GetAsync("/users/70/profile");
        await Client.GetAsync("/users/70/comments");
        await Client.GetAsync("/users/71/profile");
        Assert.Equal("HIT", await CacheStatusAsync("/users/70/comments"));

        HttpResponseMessage rename = await Client.PutAsJsonAsync("/users/70/", new { Name = "Seventy" });

        Assert.Equal(HttpStatusCode.NoContent, rename.StatusCode);
        Assert.Equal("Seventy", (await Client.GetFromJsonAsync<UserProfileDto>("/users/70/profile"))!.Name);
        Assert.Equal("MISS", await CacheStatusAsync("/users/70/comments"));
        Assert.Equal("HIT", await CacheStatusAsync("/users/71/profile"));
    }

    [Fact]
    public async Task A_profile_update_writes_through_so_the_next_read_is_a_fresh_hit()
    {
        await Client.GetAsync("/users/80/profile");

        (await Client.PutAsJsonAsync("/users/80/profile", new { Bio = "Fresh bio" })).EnsureSuccessStatusCode();

        HttpResponseMessage read = await Client.GetAsync("/users/80/profile");
        Assert.Equal("HIT", read.Headers.GetValues("X-Cache").Single());
        Assert.Equal("Fresh bio", (await read.Content.ReadFromJsonAsync<UserProfileDto>())!.Bio);
    }

    [Fact]
    public async Task Concurrent_misses_on_the_expensive_report_run_it_once()
    {
        KeyPrefixStatistics before = await StatsAsync("top_authors");

        // top=7: a key no other test reads, so it is cold here.
        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Client.GetAsync("/reports/top-authors?top=7")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single((await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()))).Distinct());
        KeyPrefixStatistics after = await StatsAsync("top_authors");
        Assert.Equal(1, after.Sets - before.Sets);
        Assert.Equal(50, after.Hits + after.Misses - before.Hits - before.Misses);
    }

    [Fact]
    public async Task A_bulk_import_invalidates_and_warms_the_lists_it_touched()
    {
        await Client.GetAsync("/posts/recent");
        await Client.GetAsync("/categories/9/posts");
        UserProfileDto profile90 = (await Client.GetFromJsonAsync<UserProfileDto>("/users/90/profile"))!;
        Assert.Equal("HIT", await CacheStatusAsync("/users/90/profile"));

        HttpResponseMessage import = await Client.PostAsJsonAsync("/admin/import", new[]
        {
            new { AuthorId = 90, CategoryId = 9, Title = "Imported one", Body = "b" },
            new { AuthorId = 91, CategoryId = 9, Title = "Imported two", Body = "b" },
        });

        Assert.Equal(HttpStatusCode.OK, import.StatusCode);
        HttpResponseMessage recent = await Client.GetAsync("/posts/recent");
        Assert.Equal("HIT", recent.Headers.GetValues("X-Cache").Single());
        Assert.Contains((await recent.Content.ReadFromJsonAsync<PostSummary[]>())!, p => p.Title == "Imported two");
        HttpResponseMessage category = await Client.GetAsync("/categories/9/posts");
        Assert.Equal("HIT", category.Headers.GetValues("X-Cache").Single());
        Assert.Contains((await category.Content.ReadFromJsonAsync<PostSummary[]>())!, p => p.Title == "Imported one");
        Assert.Contains((await Client.GetFromJsonAsync<PostSummary[]>("/users/90/posts"))!, p => p.Title == "Imported one");
        Assert.Equal(profile90.PostCount + 1, (await Client.GetFromJsonAsync<UserProfileDto>("/users/90/profile"))!.PostCount);
    }

    [Fact]
    public async Task The_stats_endpoint_reports_the_hits_and_misses_a_request_caused()
    {
        KeyPrefixStatistics before = await StatsAsync("post");

        await Client.GetAsync("/posts/120");
        await Client.GetAsync("/posts/120");
        await Client.GetAsync("/posts/120");

        KeyPrefixStatistics after = await StatsAsync("post");
        Assert.Equal(2, after.Hits - before.Hits);
        Assert.Equal(1, after.Misses - before.Misses);
        Assert.Equal(1, after.Sets - before.Sets);
    }

    [Fact]
    public async Task Bad_requests_get_4xx_and_invalidate_nothing()
    {
        await Client.GetAsync("/posts/130");
        PostDto post = (await Client.GetFromJsonAsync<PostDto>("/posts/130"))!;
        await Client.GetAsync($"/users/{post.AuthorId}/posts");
        await Client.GetAsync("/search?q=notes&page=3");

        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/posts/99999")).StatusCode);
        Assert.Equal("MISS", await CacheStatusAsync("/posts/99999"));
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/posts/*")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.PutAsJsonAsync("/posts/%2A", new { post.AuthorId, post.CategoryId, Title = "x", Body = "y" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.PutAsJsonAsync("/posts/99999", new { post.AuthorId, post.CategoryId, Title = "x", Body = "y" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PutAsync("/posts/130", new StringContent("{\"title\": ", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.PutAsJsonAsync("/posts/130", new { AuthorId = post.AuthorId + 1, post.CategoryId, Title = "x", Body = "y" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PutAsJsonAsync("/posts/130", new { post.AuthorId, post.CategoryId, Title = "", Body = "y" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.GetAsync("/search?q=&page=1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/search?q=*&page=1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/search?q=n[o]t%3Fs\\&page=1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/%5Bx%5D/profile")).StatusCode);

        Assert.Equal("HIT", await CacheStatusAsync("/posts/130"));
        Assert.Equal("HIT", await CacheStatusAsync($"/users/{post.AuthorId}/posts"));
        Assert.Equal("HIT", await CacheStatusAsync("/search?q=notes&page=3"));
        Assert.Equal(post.Title, (await Client.GetFromJsonAsync<PostDto>("/posts/130"))!.Title);
    }

    [Fact]
    public void The_sample_runs_from_the_build_the_tests_were_asked_for()
    {
        // BLOGAPI_EXECUTABLE set: that native executable; otherwise the build output, under the dotnet host.
        if (SampleHost.NativeExecutable is { } executable)
        {
            Assert.Equal(executable, fixture.Host.ProcessPath);
        }
        else
        {
            Assert.Equal("dotnet", Path.GetFileName(fixture.Host.ProcessPath));
        }
    }

    [Fact]
    public async Task HybridCache_highlights_are_cached_and_a_Cache_write_removes_them()
    {
        // The highlights service caches through HybridCache; PUT /posts/{id} ([Cache], pattern user_{AuthorId}_posts:*)
        // removes them. The author with the fewest posts keeps this test clear of the others' edits.
        AuthorRank author = (await Client.GetFromJsonAsync<AuthorRank[]>("/reports/top-authors?top=50"))!.Where(a => a.Posts >= 1).MinBy(a => a.Posts)!;
        AuthorHighlights first = (await Client.GetFromJsonAsync<AuthorHighlights>($"/users/{author.AuthorId}/highlights"))!;
        AuthorHighlights again = (await Client.GetFromJsonAsync<AuthorHighlights>($"/users/{author.AuthorId}/highlights"))!;
        Assert.Equal(first.ComputedAt, again.ComputedAt);
        Assert.NotEmpty(first.Latest);

        PostDto post = (await Client.GetFromJsonAsync<PostDto>($"/posts/{first.Latest[0].Id}"))!;
        string title = post.Title + " (highlighted)";
        (await Client.PutAsJsonAsync($"/posts/{post.Id}", new { post.AuthorId, post.CategoryId, Title = title, post.Body })).EnsureSuccessStatusCode();

        AuthorHighlights after = (await Client.GetFromJsonAsync<AuthorHighlights>($"/users/{author.AuthorId}/highlights"))!;
        Assert.NotEqual(first.ComputedAt, after.ComputedAt);
        Assert.Contains(after.Latest, p => p.Id == post.Id && p.Title == title);
    }

    protected Task<string> CacheStatusAsync(string path) => Client.CacheStatusAsync(path);

    private async Task<KeyPrefixStatistics> StatsAsync(string prefix)
    {
        KeyPrefixStatistics[] all = (await Client.GetFromJsonAsync<KeyPrefixStatistics[]>("/cache/stats"))!;
        return all.FirstOrDefault(s => s.KeyPrefix == prefix) ?? new KeyPrefixStatistics(prefix, 0, 0, 0, 0, 0, 0);
    }
}

/// <summary>
/// Start-up warming, on a sample no other test has touched (another test's invalidations could otherwise
/// turn a warmed key into a miss first).
/// </summary>
public abstract class WarmupTests(SampleFixture fixture)
{
    private HttpClient Client => fixture.Host.Client;

    [Fact]
    public async Task Warmed_reference_data_and_popular_posts_are_hits_on_the_first_request()
    {
        Assert.Equal("HIT", await StatusAsync("/categories"));
        Assert.Equal("HIT", await StatusAsync("/categories/3"));
        int[] popular = (await Client.GetFromJsonAsync<int[]>("/posts/popular?take=3"))!;
        foreach (int id in popular)
        {
            Assert.Equal("HIT", await StatusAsync($"/posts/{id}"));
        }

        Assert.Contains("Cache warming (start-up): 33 entries", fixture.Host.Output);
    }

    private Task<string> StatusAsync(string path) => Client.CacheStatusAsync(path);
}

/// <summary>
/// The MVC controller (CommentsController). Native AOT builds leave it out (MVC is not supported under Native
/// AOT), so these tests carry the trait Needs=Mvc and a run against a native executable filters them out with
/// <c>--filter "Needs!=Mvc"</c>; run against one anyway, they fail, saying so.
/// </summary>
public abstract class ControllerTests(SampleFixture fixture)
{
    private HttpClient Client => fixture.Host.Client;

    [Fact]
    public async Task Controller_comments_are_cached_and_refreshed_by_a_new_comment()
    {
        CommentDto[] before = (await Client.GetFromJsonAsync<CommentDto[]>("/api/posts/50/comments"))!;
        Assert.Equal("HIT", await CacheStatusAsync("/api/posts/50/comments"));
        await Client.GetAsync("/users/60/comments");

        HttpResponseMessage created = await Client.PostAsJsonAsync("/api/posts/50/comments", new { AuthorId = 60, Text = "New comment" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        CommentDto[] after = (await Client.GetFromJsonAsync<CommentDto[]>("/api/posts/50/comments"))!;
        Assert.Equal(before.Length + 1, after.Length);
        Assert.Contains((await Client.GetFromJsonAsync<CommentDto[]>("/users/60/comments"))!, c => c.Text == "New comment");
    }

    [Fact]
    public async Task Bad_comments_get_4xx_and_invalidate_nothing()
    {
        CommentDto[] before = (await Client.GetFromJsonAsync<CommentDto[]>("/api/posts/130/comments"))!;
        await Client.GetAsync("/users/1/comments");
        Assert.Equal("HIT", await CacheStatusAsync("/api/posts/130/comments"));

        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PostAsJsonAsync("/api/posts/130/comments", new { AuthorId = 1, Text = "" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.PostAsJsonAsync("/api/posts/99999/comments", new { AuthorId = 1, Text = "t" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.PostAsJsonAsync("/api/posts/130/comments", new { AuthorId = 99999, Text = "t" })).StatusCode);

        Assert.Equal("HIT", await CacheStatusAsync("/api/posts/130/comments"));
        Assert.Equal("HIT", await CacheStatusAsync("/users/1/comments"));
        Assert.Equal(before.Length, (await Client.GetFromJsonAsync<CommentDto[]>("/api/posts/130/comments"))!.Length);
    }

    private Task<string> CacheStatusAsync(string path) => Client.CacheStatusAsync(path);
}

/// <summary>A sample for the controller tests; refuses to start a native executable, which has no controllers.</summary>
public abstract class ControllerFixture : SampleFixture
{
    public override Task InitializeAsync() => SampleHost.NativeExecutable is null
        ? base.InitializeAsync()
        : throw new InvalidOperationException(
            $"Tests with the trait Needs=Mvc need the MVC controller, which the Native AOT build leaves out; with {SampleHost.ExecutableVariable} set, run with --filter \"Needs!=Mvc\".");
}

public sealed class EmbeddedControllerFixture : ControllerFixture
{
    protected override bool UseRedis => false;
}

public sealed class RedisControllerFixture : ControllerFixture
{
    protected override bool UseRedis => true;
}

[Trait("Needs", "Mvc")]
public sealed class EmbeddedStoreControllerTests(EmbeddedControllerFixture fixture) : ControllerTests(fixture), IClassFixture<EmbeddedControllerFixture>;

[Trait("Needs", "Mvc")]
public sealed class RedisStoreControllerTests(RedisControllerFixture fixture) : ControllerTests(fixture), IClassFixture<RedisControllerFixture>;

public sealed class EmbeddedWarmupFixture : SampleFixture
{
    protected override bool UseRedis => false;
}

public sealed class RedisWarmupFixture : SampleFixture
{
    protected override bool UseRedis => true;
}

public sealed class EmbeddedStoreWarmupTests(EmbeddedWarmupFixture fixture) : WarmupTests(fixture), IClassFixture<EmbeddedWarmupFixture>;

public sealed class RedisStoreWarmupTests(RedisWarmupFixture fixture) : WarmupTests(fixture), IClassFixture<RedisWarmupFixture>;

public sealed class EmbeddedStoreSampleTests(EmbeddedSampleFixture fixture) : SampleTests(fixture), IClassFixture<EmbeddedSampleFixture>;

public sealed class RedisStoreSampleTests(RedisSampleFixture fixture) : SampleTests(fixture), IClassFixture<RedisSampleFixture>
{
    [Fact]
    public async Task Entries_live_in_redis_with_the_ttl_chosen_by_data()
    {
        await CacheStatusAsync("/posts/140");
        await CacheStatusAsync("/users/140/profile");
        await CacheStatusAsync("/stats/live");

        IDatabase db = fixture.Host.Redis!.Connection.GetDatabase();
        // An entry with a stale-if-error window is kept in Redis for its expiration plus the window.
        await AssertTtlAsync(db, "post:140", 1800 + 86400);
        await AssertTtlAsync(db, "user_profile:140", 3600);
        await AssertTtlAsync(db, "live_stats:global", 60 + 300);
    }

    private static async Task AssertTtlAsync(IDatabase db, string key, int seconds)
    {
        TimeSpan? ttl = await db.KeyTimeToLiveAsync(key);
        Assert.True(ttl is not null, $"{key} is not in Redis");
        Assert.InRange(ttl.Value.TotalSeconds, seconds - 30, seconds);
    }
}

internal static class CacheStatus
{
    /// <summary>The response's X-Cache header (HIT or MISS), or "(none)".</summary>
    public static async Task<string> CacheStatusAsync(this HttpClient client, string path)
    {
        HttpResponseMessage response = await client.GetAsync(path);
        return response.Headers.TryGetValues("X-Cache", out IEnumerable<string>? values) ? values.Single() : "(none)";
    }
}
