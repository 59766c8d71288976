using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>How a <see cref="StubExporter"/> misbehaves.</summary>
internal enum StubBehaviour
{
    /// <summary>Accepts the connection, reads the request and never answers.</summary>
    Hang,
    /// <summary>Answers 200 with an HTML page, as a wrong URL or a login page would.</summary>
    Garbage,
    /// <summary>Answers 200 with an endless exposition (up to 500 MB), as a runaway exporter would.</summary>
    Huge,
}

/// <summary>An HTTP endpoint on a free loopback port that misbehaves as told: a raw socket, so nothing smooths it over.</summary>
internal sealed class StubExporter : IAsyncDisposable
{
    private const long HugeBytes = 500L << 20;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _bytesSent;

    public StubExporter(StubBehaviour behaviour)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(behaviour, _stop.Token);
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/metrics";
    public string Instance => $"127.0.0.1:{Port}";

    /// <summary>Bytes written to scrapers so far (the huge stub: how far a scraper read before it hung up).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    private async Task AcceptAsync(StubBehaviour behaviour, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(cancellationToken);
                _ = Task.Run(() => ServeAsync(client, behaviour, cancellationToken), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client, StubBehaviour behaviour, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                await ReadRequestAsync(stream, cancellationToken);
                switch (behaviour)
                {
                    case StubBehaviour.Hang:
                        await Task.Delay(Timeout.Infinite, cancellationToken);
                        break;
                    case StubBehaviour.Garbage:
                        var page = "<html><head><title>Sign in</title></head><body><form>user: <input name=u></form></body></html>\n";
                        await WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {page.Length}\r\nConnection: close\r\n\r\n{page}", cancellationToken);
                        break;
                    case StubBehaviour.Huge:
                        await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\n\r\n", cancellationToken);
                        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 1000).Select(i => $"runaway_series{{n=\"{i}\"}} {i}\n")));
                        for (long sent = 0; sent < HugeBytes; sent += chunk.Length)
                        {
                            await stream.WriteAsync(chunk, cancellationToken);
                            Interlocked.Add(ref _bytesSent, chunk.Length);
                        }
                        break;
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The scraper hung up (it gave up, or cut the body off): that is the point.
            }
        }
    }

    private static async Task ReadRequestAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var seen = new StringBuilder();
        while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0) return;
            seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    private async Task WriteAsync(NetworkStream stream, string text, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await stream.WriteAsync(bytes, cancellationToken);
        Interlocked.Add(ref _bytesSent, bytes.Length);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
