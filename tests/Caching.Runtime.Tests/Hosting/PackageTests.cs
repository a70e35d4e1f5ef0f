using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Caching.Runtime.Tests.Hosting;

/// <summary>The Caching.Runtime package carries the attributes, the generator and the interceptor settings.</summary>
public sealed class PackageTests
{
    [Fact]
    public async Task Pack_makes_one_package_with_attributes_generator_and_targets()
    {
        string root = RepositoryRoot();
        string output = Directory.CreateTempSubdirectory("caching-pack-").FullName;
        try
        {
            var info = new ProcessStartInfo("dotnet", ["pack", Path.Combine(root, "src", "Caching.Runtime", "Caching.Runtime.csproj"), "-c", "Release", "-o", output, "-p:UseAppHost=false", "--nologo"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process process = Process.Start(info)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"dotnet pack failed:\n{await stdout}\n{await stderr}");

            string package = Assert.Single(Directory.GetFiles(output, "Caching.Runtime.*.nupkg"));
            using ZipArchive zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains("lib/net10.0/Caching.Runtime.dll", entries);
            Assert.Contains("lib/net10.0/Caching.Runtime.xml", entries);
            Assert.Contains("lib/net10.0/Caching.Attributes.dll", entries);
            Assert.Contains("analyzers/dotnet/cs/Caching.Generator.dll", entries);
            Assert.Contains("build/Caching.Runtime.targets", entries);
            Assert.Contains("buildTransitive/Caching.Runtime.targets", entries);
            Assert.Contains("README.md", entries);

            using var targets = new StreamReader(zip.GetEntry("build/Caching.Runtime.targets")!.Open());
            Assert.Contains("<InterceptorsNamespaces>$(InterceptorsNamespaces);Caching.Generated</InterceptorsNamespaces>", await targets.ReadToEndAsync());

            ZipArchiveEntry nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
            using Stream nuspecStream = nuspecEntry.Open();
            XDocument nuspec = XDocument.Load(nuspecStream);
            var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToList();
            Assert.Contains("StackExchange.Redis", dependencies);
            Assert.DoesNotContain(dependencies, d => d.StartsWith("Caching.", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
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

        throw new InvalidOperationException("Caching.sln not found above " + AppContext.BaseDirectory);
    }
}
