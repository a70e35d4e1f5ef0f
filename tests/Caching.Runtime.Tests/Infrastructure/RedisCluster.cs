using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Caching.Runtime.Tests.Infrastructure;

/// <summary>
/// A real local Redis Cluster: three primaries on free loopback ports (and their bus ports), fresh node
/// directories, created with <c>redis-cli --cluster create … --cluster-replicas 0 --cluster-yes</c>, ready when
/// every node reports <c>cluster_state:ok</c>, stopped and deleted on dispose.
/// </summary>
public sealed class RedisCluster : IRedisDeployment
{
    private readonly List<Process> _processes;
    private readonly string _directory;

    private RedisCluster(List<Process> processes, string directory, int[] ports, ConnectionMultiplexer connection)
    {
        _processes = processes;
        _directory = directory;
        Ports = ports;
        Connection = connection;
    }

    public int[] Ports { get; }

    public string ConnectionString => string.Join(",", Ports.Select(p => $"127.0.0.1:{p}"));

    public ConnectionMultiplexer Connection { get; }

    public IServer[] Primaries => Connection.GetServers().Where(s => !s.IsReplica).ToArray();

    public static async Task<RedisCluster> StartAsync(int nodes = 3)
    {
        string server = RedisServer.FindExecutable("redis-server");
        string cli = RedisServer.FindExecutable("redis-cli");
        string directory = Directory.CreateTempSubdirectory("caching-cluster-").FullName;
        int[] ports = ClusterPorts(nodes);
        var processes = new List<Process>();
        try
        {
            foreach (int port in ports)
            {
                string nodeDirectory = Path.Combine(directory, port.ToString());
                Directory.CreateDirectory(nodeDirectory);
                processes.Add(RedisServer.StartProcess(server, nodeDirectory, [
                    "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", nodeDirectory,
                    "--daemonize", "no", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"]));
            }

            foreach (int port in ports)
            {
                await WaitForAsync(() => Cli(cli, port, "ping").Contains("PONG", StringComparison.Ordinal), $"node {port} to answer");
            }

            string create = Cli(cli, ports[0], ["--cluster", "create", .. ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "0", "--cluster-yes"]);
            if (!create.Contains("[OK] All 16384 slots covered", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("redis-cli --cluster create failed:\n" + create);
            }

            foreach (int port in ports)
            {
                await WaitForAsync(() => Cli(cli, port, "cluster", "info").Contains("cluster_state:ok", StringComparison.Ordinal), $"node {port} to report cluster_state:ok");
            }

            var options = ConfigurationOptions.Parse(string.Join(",", ports.Select(p => $"127.0.0.1:{p}")));
            options.AllowAdmin = true;
            ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(options);
            await WaitForAsync(() => connection.GetServers().Count(s => s.IsConnected && !s.IsReplica) == nodes, "the client to see every primary");
            return new RedisCluster(processes, directory, ports, connection);
        }
        catch
        {
            processes.ForEach(RedisServer.Kill);
            throw;
        }
    }

    public ConfigurationOptions ClientConfiguration(bool admin = false)
    {
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AllowAdmin = admin;
        options.AbortOnConnectFail = false;
        return options;
    }

    /// <summary>Kills the primary listening on <paramref name="port"/> at once (SIGKILL), as a crash would.</summary>
    public void KillNode(int port) => RedisServer.Kill(_processes[Array.IndexOf(Ports, port)]);

    /// <summary>The port of the primary that owns <paramref name="key"/>'s hash slot.</summary>
    public int PortOf(RedisKey key) => ((System.Net.IPEndPoint)Connection.GetServer(key).EndPoint).Port;

    public async Task FlushAsync() => await Task.WhenAll(Primaries.Select(s => s.FlushAllDatabasesAsync()));

    public async Task<HashSet<string>> AllKeysAsync()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (IServer primary in Primaries)
        {
            await foreach (RedisKey key in primary.KeysAsync(pageSize: 5000))
            {
                keys.Add(key!);
            }
        }

        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        _processes.ForEach(RedisServer.Kill);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // Each node needs its port and port + 10000 (the cluster bus) free.
    private static int[] ClusterPorts(int count)
    {
        var ports = new List<int>();
        var random = new Random();
        while (ports.Count < count)
        {
            int port = random.Next(20000, 29000);
            if (!ports.Contains(port) && IsFree(port) && IsFree(port + 10000))
            {
                ports.Add(port);
            }
        }

        return ports.ToArray();
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Cli(string cli, int port, params string[] arguments)
    {
        var info = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "-h", "127.0.0.1", "-p", port.ToString() }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Timed out waiting for " + what);
    }
}
