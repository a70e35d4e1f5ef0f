namespace Caching.IntegrationTests;

/// <summary>
/// The CACHE diagnostics as a package user meets them: reported by the analyzer in the packed Caching.Runtime, in a
/// real <c>dotnet build -warnaserror</c>, once each, and silenced by each of the compiler's own suppression
/// mechanisms (#pragma, [SuppressMessage], .editorconfig, NoWarn). An error turned off still leaves its endpoint
/// uncached: the generator never emits code for a [Cache] it found wrong.
/// </summary>
public sealed class PackageDiagnosticsTests
{
    private const string Project = """
        <Project Sdk="Microsoft.NET.Sdk.Web">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
            NO_WARN
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Caching.Runtime" Version="VERSION" />
          </ItemGroup>
        </Project>
        """;

    // CACHE013 (a warning): "{id}" followed by "*" in a pattern. The template is on its own lines, so the
    // pragma pair can sit around the attribute alone.
    private const string Program = """
        using Caching;

        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddAttributeCaching();
        var app = builder.Build();
        Routes.Map(app);
        app.Run();

        public static class Routes
        {
            SUPPRESS_MESSAGE
            public static void Map(WebApplication app)
            {
                app.MapGet("/items/{id}", [Cache("item")] (int id) => id);
                app.MapPut("/items/{id}",
        PRAGMA_OFF
                    [Cache("item", PatternToInvalidateExtra = ["item_{id}*"])]
        PRAGMA_ON
                    (int id) => Results.NoContent());
                ERROR_ENDPOINT
            }
        }
        """;

    [Fact]
    public async Task A_warning_fails_a_warnaserror_build_once_and_every_suppression_mechanism_silences_it()
    {
        string root = PackageConsumerTests.RepositoryRoot();
        string work = Directory.CreateTempSubdirectory("caching-diagnostics-").FullName;
        string version = "0.1.0-diag." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        try
        {
            string feed = Path.Combine(work, "feed");
            await PackageConsumerTests.RunAsync(root, "dotnet", "pack", Path.Combine(root, "src", "Caching.Runtime", "Caching.Runtime.csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}");

            // Nothing suppressed: the warning is an error, reported once, at the placeholder.
            (int exitCode, string output) = await BuildAsync(work, feed, version, "plain");
            Assert.NotEqual(0, exitCode);
            // MSBuild repeats every error in its closing summary: count the reports of the build itself.
            int summary = output.IndexOf("Build FAILED.", StringComparison.Ordinal);
            string reported = summary < 0 ? output : output[..summary];
            string[] reports = reported.Split('\n').Where(l => l.Contains("CACHE013", StringComparison.Ordinal)).ToArray();
            Assert.True(reports.Length == 1, "expected CACHE013 once:\n" + output);
            Assert.Contains("Program.cs(17,", reports[0], StringComparison.Ordinal);
            Assert.Contains("error CACHE013", reports[0], StringComparison.Ordinal);

            // #pragma warning disable around the attribute.
            await AssertBuildsAndCachesAsync(work, feed, version, "pragma", pragma: true);

            // [SuppressMessage] on the method that maps it.
            await AssertBuildsAndCachesAsync(work, feed, version, "suppress-message", suppressMessage: true);

            // .editorconfig severity.
            await AssertBuildsAndCachesAsync(work, feed, version, "editorconfig", editorConfig: "[*.cs]\ndotnet_diagnostic.CACHE013.severity = none\n");

            // <NoWarn>.
            await AssertBuildsAndCachesAsync(work, feed, version, "nowarn", noWarn: true);

            // An error (CACHE016: a query value missing from the key) turned off by .editorconfig builds, but that
            // endpoint gets no generated code: it runs uncached rather than mixing pages.
            string app = await AssertBuildsAndCachesAsync(work, feed, version, "error-off", pragma: true, editorConfig: "[*.cs]\ndotnet_diagnostic.CACHE016.severity = none\n", errorEndpoint: true);
            string generated = File.ReadAllText(Directory.GetFiles(app, "CachedEndpoints.g.cs", SearchOption.AllDirectories).Single());
            Assert.DoesNotContain("\"page_list\"", generated, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
            string nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string cached = Path.Combine(nugetRoot, "caching.runtime", version);
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }
        }
    }

    // Builds and checks the suppressed endpoint still got its generated code (a suppressed warning changes nothing).
    private static async Task<string> AssertBuildsAndCachesAsync(string work, string feed, string version, string name, bool pragma = false, bool suppressMessage = false, string? editorConfig = null, bool noWarn = false, bool errorEndpoint = false)
    {
        (int exitCode, string output) = await BuildAsync(work, feed, version, name, pragma, suppressMessage, editorConfig, noWarn, errorEndpoint);
        Assert.True(exitCode == 0, name + " did not build:\n" + output);
        Assert.DoesNotContain("CACHE013", output, StringComparison.Ordinal);
        string app = Path.Combine(work, name);
        string generated = File.ReadAllText(Directory.GetFiles(app, "CachedEndpoints.g.cs", SearchOption.AllDirectories).Single());
        Assert.Contains("item_", generated, StringComparison.Ordinal);
        return app;
    }

    private static async Task<(int ExitCode, string Output)> BuildAsync(string work, string feed, string version, string name, bool pragma = false, bool suppressMessage = false, string? editorConfig = null, bool noWarn = false, bool errorEndpoint = false)
    {
        string app = Path.Combine(work, name);
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "Consumer.csproj"), Project
            .Replace("VERSION", version, StringComparison.Ordinal)
            .Replace("NO_WARN", noWarn ? "<NoWarn>$(NoWarn);CACHE013</NoWarn>" : string.Empty, StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), Program
            .Replace("SUPPRESS_MESSAGE", suppressMessage ? "[System.Diagnostics.CodeAnalysis.SuppressMessage(\"Caching\", \"CACHE013\", Justification = \"test\")]" : string.Empty, StringComparison.Ordinal)
            .Replace("PRAGMA_OFF", pragma ? "#pragma warning disable CACHE013" : string.Empty, StringComparison.Ordinal)
            .Replace("PRAGMA_ON", pragma ? "#pragma warning restore CACHE013" : string.Empty, StringComparison.Ordinal)
            .Replace("ERROR_ENDPOINT", errorEndpoint ? "app.MapGet(\"/pages/{id}\", [Cache(\"page_list\")] (int id, int page) => id + page);" : string.Empty, StringComparison.Ordinal));
        if (editorConfig is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(app, ".editorconfig"), "root = true\n" + editorConfig);
        }

        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        return await PackageConsumerTests.ExecAsync(app, "dotnet", "build", "-c", "Release", "-warnaserror", "-tl:off");
    }
}
