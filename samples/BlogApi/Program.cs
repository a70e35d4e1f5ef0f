using BlogApi;
using BlogApi.Data;
using BlogApi.Endpoints;
using BlogApi.Reports;
using BlogApi.Warming;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

// BlogApi: a blog on SQLite that shows every caching pattern of the guide with [Cache].
// Runs on the embedded store with no server; --Caching:Redis=127.0.0.1:6379 runs it on Redis.
var builder = WebApplication.CreateBuilder(args);

string connection = builder.Configuration.GetConnectionString("Blog")
    ?? $"Data Source={Path.Combine(builder.Environment.ContentRootPath, "blog.db")}";
builder.Services.AddSingleton(new BlogDb(connection));
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, BlogJsonContext.Default));
builder.Services.AddAttributeCaching(o => o.AddCacheStatusHeader = true);
#if !BLOGAPI_AOT
// MVC controllers are not supported under Native AOT, so the AOT publish (PublishAot=true defines BLOGAPI_AOT)
// leaves Controllers/ and these two calls out; see BlogApi.csproj.
builder.Services.AddControllers();
#endif
builder.Services.AddOpenApi();
builder.Services.AddHealthChecks().AddCaching();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.Configure<ReportOptions>(builder.Configuration.GetSection("Reports"));
builder.Services.AddSingleton<CacheWarmer>();
builder.Services.AddSingleton<AuthorHighlightsReport>(); // HybridCache (registered by AddAttributeCaching) in a service
builder.Services.AddHostedService<StartupWarmer>();

// Traces and metrics with OpenTelemetry: ASP.NET Core's and the cache's own (activity source and meter "Caching":
// a miss is a "cache miss post" span around the handler's work, with the store and any invalidation as spans).
// OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; the console exporter with --Telemetry:Console=true.
bool otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
bool console = string.Equals(builder.Configuration["Telemetry:Console"], "true", StringComparison.OrdinalIgnoreCase);
OpenTelemetryBuilder telemetry = builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService("BlogApi"))
    .WithTracing(tracing =>
    {
        tracing.AddAspNetCoreInstrumentation().AddSource(Caching.Diagnostics.CachingMetrics.ActivitySourceName);
        if (console)
        {
            tracing.AddConsoleExporter();
        }
    })
    .WithMetrics(metrics =>
    {
        metrics.AddAspNetCoreInstrumentation().AddMeter(Caching.Diagnostics.CachingMetrics.MeterName);
        if (console)
        {
            metrics.AddConsoleExporter();
        }
    });
if (otlp)
{
    telemetry.UseOtlpExporter();
}

var app = builder.Build();

// Attaches [Cache] to the endpoints when the Request Delegate Generator is on (PublishAot); a no-op otherwise.
app.UseAttributeCaching();

app.MapOpenApi();
app.MapHealthChecks("/health");
app.MapPosts();
app.MapUsers();
app.MapCategories();
app.MapStats();
app.MapAdmin();
#if !BLOGAPI_AOT
app.MapControllers();
#endif

app.Run();

/// <summary>The sample's entry point (public for tests).</summary>
public partial class Program;
