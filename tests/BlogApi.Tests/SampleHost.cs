using System.Diagnostics;
using System.Text;
using Caching.Runtime.Tests.Infrastructure;

namespace BlogApi.Tests;

/// <summary>The sample, started from its build output on a free loopback port with a fresh database.</summary>
public sealed class SampleHost : IAsyncDisposable
{
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
        string dll = SampleAssembly();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(dll);
        foreach (string argument in new[]
        {
            "--urls", $"http://127.0.0.1:{port}",
            "--ConnectionStrings:Blog", $"Data Source={Path.Combine(directory, "blog.db")}",
            "--Reports:SimulatedCostMilliseconds", "400",
            "--Logging:LogLevel:Default", "Information",
            "--Logging:LogLevel:Microsoft.EntityFrameworkCore", "Warning",
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
