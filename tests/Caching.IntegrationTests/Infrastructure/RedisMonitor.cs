using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Caching.IntegrationTests.Infrastructure;

/// <summary>
/// A MONITOR connection to a real redis-server: every command the server runs, as it reports it, so that a test can
/// count the round trips the cache makes. Commands a script runs are reported too, marked <c>[0 lua]</c>: they are
/// not round trips and <see cref="RoundTripsAsync"/> leaves them out.
/// </summary>
public sealed class RedisMonitor : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly Task _reader;
    private readonly CancellationTokenSource _stop = new();

    private RedisMonitor(TcpClient client)
    {
        _client = client;
        _reader = Task.Run(ReadAsync);
    }

    public static async Task<RedisMonitor> StartAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        await client.GetStream().WriteAsync("*1\r\n$7\r\nMONITOR\r\n"u8.ToArray());
        var monitor = new RedisMonitor(client);
        await monitor.WaitForAsync(line => line == "+OK");
        return monitor;
    }

    /// <summary>
    /// The commands sent by clients (not by scripts) that name <paramref name="key"/>, in order: the command name in
    /// upper case. Waits until the server reported an ECHO sent after the work, so nothing is missed.
    /// </summary>
    public async Task<string[]> RoundTripsAsync(string key, int port)
    {
        string marker = "marker-" + Guid.NewGuid().ToString("N");
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", port);
            byte[] ping = Encoding.ASCII.GetBytes($"*2\r\n$4\r\nECHO\r\n${marker.Length}\r\n{marker}\r\n");
            await client.GetStream().WriteAsync(ping);
            using var reply = new StreamReader(client.GetStream(), Encoding.ASCII);
            await reply.ReadLineAsync(); // $length
            await reply.ReadLineAsync(); // the marker
        }

        await WaitForAsync(line => line.Contains(marker, StringComparison.Ordinal));
        var commands = new List<string>();
        while (_lines.TryDequeue(out string? line))
        {
            if (line.Contains(marker, StringComparison.Ordinal))
            {
                break;
            }

            if (!line.Contains(" lua]", StringComparison.Ordinal) && line.Contains($"\"{key}\"", StringComparison.Ordinal))
            {
                int start = line.IndexOf("] \"", StringComparison.Ordinal) + 3;
                commands.Add(line[start..line.IndexOf('"', start)].ToUpperInvariant());
            }
        }

        return [.. commands];
    }

    private async Task WaitForAsync(Func<string, bool> seen)
    {
        for (int i = 0; i < 200; i++)
        {
            if (_lines.Any(seen))
            {
                if (_lines.TryPeek(out string? first) && first == "+OK")
                {
                    _lines.TryDequeue(out _);
                }

                return;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("MONITOR did not report the marker in 5 s.");
    }

    private async Task ReadAsync()
    {
        using var reader = new StreamReader(_client.GetStream(), Encoding.UTF8);
        try
        {
            while (!_stop.IsCancellationRequested && await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                _lines.Enqueue(line);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _client.Dispose();
        try
        {
            await _reader;
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
