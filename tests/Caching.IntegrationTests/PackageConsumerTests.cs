using System.Diagnostics;
using System.Net.Http.Json;
using Caching.Runtime.Tests.Infrastructure;

namespace Caching.IntegrationTests;

/// <summary>
/// A user project that references only the packed Caching.Runtime package, from a local feed: it builds,
/// the generator runs from the package, and caching works over HTTP.
/// </summary>
public sealed class PackageConsumerTests
{
    private const string ConsumerProject = """
        <Project Sdk="Microsoft.NET.Sdk.Web">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            PUBLISH_AOT
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Caching.Runtime" Version="VERSION" />
          </ItemGroup>
        </Project>
        """;

    private const string ConsumerProgram = """
        using System.Text.Json.Serialization;
        using Caching;

        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddAttributeCaching(o => o.AddCacheStatusHeader = true);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ConsumerJson.Default));
        var app = builder.Build();
        app.UseAttributeCaching();
        int calls = 0;
        app.MapGet("/items/{id}", [Cache("item", Expiration = 60)] (int id) => new Item(id, Interlocked.Increment(ref calls)));
        app.MapDelete("/items/{id}", [Cache("item")] (int id) => Results.NoContent());
        app.Run();

        public sealed record Item(int Id, int Calls);

        [JsonSerializable(typeof(Item))]
        internal sealed partial class ConsumerJson : JsonSerializerContext;
        """;

    /// <summary>
    /// Built as users build (the generator intercepts the Map* calls), and published with Native AOT (the
    /// Request Delegate Generator intercepts them, UseAttributeCaching() attaches the caching): every build and
    /// publish warning is an error, and the native binary caches over HTTP.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_project_with_only_the_package_builds_and_caches(bool nativeAot)
    {
        string root = RepositoryRoot();
        string work = Directory.CreateTempSubdirectory("caching-consumer-").FullName;
        string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff") + (nativeAot ? "-aot" : string.Empty);
        try
        {
            string feed = Path.Combine(work, "feed");
            await RunAsync(root, "dotnet", "pack", Path.Combine(root, "src", "Caching.Runtime", "Caching.Runtime.csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}");
            AssertPackageContents(Path.Combine(feed, $"Caching.Runtime.{version}.nupkg"));

            string app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            string project = ConsumerProject
                .Replace("VERSION", version, StringComparison.Ordinal)
                .Replace("PUBLISH_AOT", nativeAot ? "<PublishAot>true</PublishAot>" : string.Empty, StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(app, "Consumer.csproj"), project);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ConsumerProgram);
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            string output = Path.Combine(app, "out");
            if (nativeAot)
            {
                // -warnaserror: a trim or AOT warning (ILLink, ILC) fails the publish too.
                await RunAsync(app, "dotnet", "publish", "-c", "Release", "-r", "linux-x64", "-o", output, "-warnaserror");
                Assert.True(File.Exists(Path.Combine(output, "Consumer")));
                Assert.False(File.Exists(Path.Combine(output, "Consumer.dll")));
            }
            else
            {
                await RunAsync(app, "dotnet", "build", "-c", "Release", "-o", output);
                Assert.True(File.Exists(Path.Combine(output, "Caching.Attributes.dll")));
            }

            int port = RedisServer.FreePort();
            using Process server = nativeAot
                ? Start(output, Path.Combine(output, "Consumer"), "--urls", $"http://127.0.0.1:{port}")
                : Start(output, "dotnet", "Consumer.dll", "--urls", $"http://127.0.0.1:{port}");
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                await WaitUntilUpAsync(client, server);

                HttpResponseMessage miss = await client.GetAsync("/items/5");
                HttpResponseMessage hit = await client.GetAsync("/items/5");
                await client.DeleteAsync("/items/5");
                HttpResponseMessage afterDelete = await client.GetAsync("/items/5");

                Assert.Equal("MISS", miss.Headers.GetValues("X-Cache").Single());
                Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
                Assert.Equal(1, (await hit.Content.ReadFromJsonAsync<Item>())!.Calls);
                Assert.Equal(2, (await afterDelete.Content.ReadFromJsonAsync<Item>())!.Calls);
            }
            finally
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);

            // Each run packs a new version: keep the global package folder from filling up with them.
            string nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string cached = Path.Combine(nugetRoot, "caching.runtime", version);
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }
        }
    }

    private sealed record Item(int Id, int Calls);

    // One package carries the attributes, the generator and the interceptor settings; it depends on no other Caching package.
    private static void AssertPackageContents(string package)
    {
        using System.IO.Compression.ZipArchive zip = System.IO.Compression.ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/Caching.Runtime.dll", entries);
        Assert.Contains("lib/net10.0/Caching.Runtime.xml", entries);
        Assert.Contains("lib/net10.0/Caching.Attributes.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/Caching.Generator.dll", entries);
        Assert.Contains("build/Caching.Runtime.targets", entries);
        Assert.Contains("buildTransitive/Caching.Runtime.targets", entries);
        Assert.Contains("README.md", entries);
        using (var targets = new StreamReader(zip.GetEntry("build/Caching.Runtime.targets")!.Open()))
        {
            string text = targets.ReadToEnd();
            Assert.Contains("<InterceptorsNamespaces>$(InterceptorsNamespaces);Caching.Generated</InterceptorsNamespaces>", text);
            Assert.Contains("<CompilerVisibleProperty Include=\"EnableRequestDelegateGenerator\" />", text);
        }

        using Stream nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var dependencies = System.Xml.Linq.XDocument.Load(nuspecStream).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToList();
        Assert.Contains("StackExchange.Redis", dependencies);
        Assert.DoesNotContain(dependencies, d => d.StartsWith("Caching.", StringComparison.Ordinal));
    }

    private static async Task WaitUntilUpAsync(HttpClient client, Process server)
    {
        for (int i = 0; i < 200 && !server.HasExited; i++)
        {
            try
            {
                await client.GetAsync("/");
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException("The consumer app did not start.");
    }

    private static Process Start(string directory, string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process = Process.Start(info)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    internal static async Task RunAsync(string directory, string file, params string[] arguments)
    {
        (int exitCode, string output) = await ExecAsync(directory, file, arguments);
        Assert.True(exitCode == 0, $"{file} {string.Join(' ', arguments)} failed:\n{output}");
    }

    /// <summary>Runs a process to its end; returns its exit code and its standard output and error.</summary>
    internal static async Task<(int ExitCode, string Output)> ExecAsync(string directory, string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + "\n" + await error);
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Caching.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Caching.sln not found");
    }
}
