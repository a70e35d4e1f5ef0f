using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Caching.Runtime.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a free loopback port, in a fresh directory, started for the tests and stopped after.
/// Missing redis-server is a failure, never a skip: <c>./build.sh test</c> installs it.
/// </summary>
public sealed class RedisServer : IRedisDeployment
{
    private readonly string _directory;
    private readonly string[] _arguments;
    private Process _process;

    private RedisServer(Process process, string directory, int port, ConnectionMultiplexer connection, string[] arguments)
    {
        _process = process;
        _directory = directory;
        _arguments = arguments;
        Port = port;
        Connection = connection;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>An admin connection, for FLUSHALL, SCAN and INFO in the tests.</summary>
    public ConnectionMultiplexer Connection { get; }

    public IServer Server => Connection.GetServer("127.0.0.1", Port);

    public static string FindExecutable(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/bin").Append("/usr/local/bin"))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"{name} is not installed. Run the tests with ./build.sh test, which installs it from Debian's packages (apt-get install redis-server).");
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task<RedisServer> StartAsync(params string[] extraArguments)
    {
        string executable = FindExecutable("redis-server");
        string directory = Directory.CreateTempSubdirectory("caching-redis-").FullName;
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            string[] arguments = new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory, "--daemonize", "no", "--protected-mode", "yes" }.Concat(extraArguments).ToArray();
            Process process = StartProcess(executable, directory, arguments);
            ConnectionMultiplexer? connection = await TryConnectAsync(port, process);
            if (connection is not null)
            {
                return new RedisServer(process, directory, port, connection, arguments);
            }

            Kill(process);
            if (attempt == 3)
            {
                throw new InvalidOperationException($"redis-server did not start on 127.0.0.1 (last port {port}).");
            }
        }
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public void Kill() => Kill(_process);

    /// <summary>Starts the server again on the same port and directory (with persistence on, its data is back).</summary>
    public async Task RestartAsync()
    {
        _process = StartProcess(FindExecutable("redis-server"), _directory, _arguments);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await Connection.GetDatabase().PingAsync();
                return;
            }
            catch (RedisException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException("redis-server did not come back");
    }

    public ConfigurationOptions ClientConfiguration(bool admin = false)
    {
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AllowAdmin = admin;
        options.AbortOnConnectFail = false;
        return options;
    }

    public async Task FlushAsync() => await Server.FlushAllDatabasesAsync();

    public async Task<HashSet<string>> AllKeysAsync()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        await foreach (RedisKey key in Server.KeysAsync(pageSize: 5000))
        {
            keys.Add(key!);
        }

        return keys;
    }

    public static Process StartProcess(string executable, string directory, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        Kill(_process);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<ConnectionMultiplexer?> TryConnectAsync(int port, Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                var options = ConfigurationOptions.Parse($"127.0.0.1:{port}");
                options.AllowAdmin = true;
                options.ConnectTimeout = 1000;
                var connection = await ConnectionMultiplexer.ConnectAsync(options);
                if (connection.IsConnected)
                {
                    await connection.GetDatabase().PingAsync();
                    return connection;
                }

                await connection.DisposeAsync();
            }
            catch (RedisConnectionException)
            {
            }

            await Task.Delay(50);
        }

        return null;
    }

    internal static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }
}

/// <summary>A Redis the tests can use: one server, or a cluster.</summary>
public interface IRedisDeployment : IAsyncDisposable
{
    /// <summary>A StackExchange.Redis connection string for the application under test.</summary>
    string ConnectionString { get; }

    /// <summary>An admin connection for the tests.</summary>
    ConnectionMultiplexer Connection { get; }

    /// <summary>Client options for the application under test.</summary>
    ConfigurationOptions ClientConfiguration(bool admin = false);

    /// <summary>Deletes every key on every primary.</summary>
    Task FlushAsync();

    /// <summary>Every key on every primary, by a full SCAN.</summary>
    Task<HashSet<string>> AllKeysAsync();
}
