using System.Diagnostics;
using System.Text;
using Caching.Runtime.Tests.Infrastructure;

namespace BlogApi.Tests;

/// <summary>
/// The sample, started on a free loopback port with a fresh database: from its build output
/// (<c>dotnet BlogApi.dll</c>), or, when the environment variable <see cref="ExecutableVariable"/> holds the
/// absolute path of one, from that native executable (the Native AOT publish of scripts/aot-sample.sh).
/// </summary>
public sealed class SampleHost : IAsyncDisposable
{
    /// <summary>Names a native BlogApi executable to run instead of the build output.</summary>
    public const string ExecutableVariable = "BLOGAPI_EXECUTABLE";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();

    private SampleHost(Process process, string directory, HttpClient client, RedisServer? redis)
    {
        _process = process;
        _directory = directory;
        Client = client;
        Redis = redis;
    }

    public HttpClient Client { get; }

    public RedisServer? Redis { get; }

    /// <summary>The native executable the tests were asked to run, or null for the build output.</summary>
    public static string? NativeExecutable => Environment.GetEnvironmentVariable(ExecutableVariable) is { Length: > 0 } path ? path : null;

    /// <summary>The file the sample's process runs: the native executable, or the dotnet host.</summary>
    public string ProcessPath { get; private set; } = string.Empty;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<SampleHost> StartAsync(bool useRedis)
    {
        RedisServer? redis = useRedis ? await RedisServer.StartAsync() : null;
        string directory = Directory.CreateTempSubdirectory("blogapi-").FullName;
        int port = RedisServer.FreePort();
        ProcessStartInfo info = StartInfo();
        foreach (string argument in new[]
        {
            "--urls", $"http://127.0.0.1:{port}",
            "--ConnectionStrings:Blog", $"Data Source={Path.Combine(directory, "blog.db")}",
            "--Reports:SimulatedCostMilliseconds", "400",
            "--Logging:LogLevel:Default", "Information",
        })
        {
            info.ArgumentList.Add(argument);
        }

        if (redis is not null)
        {
            info.ArgumentList.Add("--Caching:Redis");
            info.ArgumentList.Add(redis.ConnectionString);
        }

        Process process = Process.Start(info)!;
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var host = new SampleHost(process, directory, client, redis);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await host.WaitUntilUpAsync();
        host.ProcessPath = process.MainModule?.FileName ?? string.Empty;
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task WaitUntilUpAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The sample exited:\n" + Output);
            }

            try
            {
                HttpResponseMessage response = await Client.GetAsync("/openapi/v1.json");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The sample did not start:\n" + Output);
    }

    // The content root is the working directory: the executable's or the assembly's folder, where appsettings.json is.
    private static ProcessStartInfo StartInfo()
    {
        ProcessStartInfo info;
        if (NativeExecutable is { } executable)
        {
            if (!Path.IsPathFullyQualified(executable) || !File.Exists(executable))
            {
                throw new FileNotFoundException($"{ExecutableVariable} must be the absolute path of the native BlogApi executable; it is '{executable}'");
            }

            info = new ProcessStartInfo(executable) { WorkingDirectory = Path.GetDirectoryName(executable)! };
        }
        else
        {
            string dll = SampleAssembly();
            info = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)! };
            info.ArgumentList.Add(dll);
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        return info;
    }

    private static string SampleAssembly()
    {
        // The sample is built with the same configuration as these tests (Debug or Release).
        string testDirectory = AppContext.BaseDirectory;
        string configuration = testDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        for (var dir = new DirectoryInfo(testDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", "BlogApi", "bin", configuration, "net10.0", "BlogApi.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("samples/BlogApi is not built for " + configuration);
    }
}
