using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>A small, paced syslog sender over TCP (octet counting), bounded in count and time.</summary>
internal static class SyslogSender
{
    /// <summary>The RFC 5424 line of message number <paramref name="n"/>.</summary>
    public static string Line(string app, int n, string host = "sender", int pri = 134) =>
        $"<{pri}>1 2026-11-21T10:00:00.000Z {host} {app} - - - {app} seq={n}";

    /// <summary>
    /// Sends <paramref name="count"/> lines at <paramref name="perSecond"/> (0 = as fast as the socket takes
    /// them). Returns how many were written to the socket. A full edge pushes back: writes then block.
    /// </summary>
    public static async Task<int> SendTcpAsync(int port, int count, int perSecond, Func<int, string> line, StrongBox<int>? progress = null, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, cancellationToken);
        await using var stream = client.GetStream();
        var clock = Stopwatch.StartNew();
        var buffer = new MemoryStream();
        var sent = 0;
        while (sent < count && !cancellationToken.IsCancellationRequested)
        {
            var due = perSecond == 0 ? count : Math.Min(count, (int)(clock.Elapsed.TotalSeconds * perSecond) + 1);
            if (sent >= due)
            {
                await Task.Delay(5, cancellationToken);
                continue;
            }
            buffer.SetLength(0);
            while (sent < due && buffer.Length < 64 * 1024)
            {
                var bytes = Encoding.UTF8.GetBytes(line(sent));
                var prefix = Encoding.ASCII.GetBytes(bytes.Length + " ");
                buffer.Write(prefix);
                buffer.Write(bytes);
                sent++;
            }
            await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken);
            if (progress is not null) Volatile.Write(ref progress.Value, sent);
        }
        await stream.FlushAsync(cancellationToken);
        client.Client.Shutdown(SocketShutdown.Send);
        return sent;
    }
}
