using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pipeline.Bench;

/// <summary>Serves one exposition over HTTP on loopback, as an exporter would (text format 0.0.4).</summary>
internal sealed class ExpositionServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _header;
    private readonly byte[] _body;

    public ExpositionServer(byte[] body)
    {
        _body = body;
        _header = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/metrics";

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var buffer = new byte[8192];
                    var seen = 0;
                    while (seen < 4 && await stream.ReadAsync(buffer) is var read and > 0)
                        for (var i = 0; i < read; i++) seen = buffer[i] == (seen % 2 == 0 ? '\r' : '\n') ? seen + 1 : buffer[i] == '\r' ? 1 : 0;
                    await stream.WriteAsync(_header);
                    await stream.WriteAsync(_body);
                }
            });
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
