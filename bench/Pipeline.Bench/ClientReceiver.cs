using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Pipeline.Bench;

/// <summary>
/// A stand-in for the edge that takes everything and keeps nothing: <c>/v1/stream</c> answers every message with
/// the running count, <c>/v1/logs</c> answers 200. It lets the client benchmark measure what logging costs the
/// application, not what Kafka costs; stopping it is the outage.
/// </summary>
internal sealed class ClientReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ClientReceiver(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}");

    public static async Task<ClientReceiver> StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/v1/stream", async (HttpContext context) =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1 << 20];
            long stored = 0;
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    ValueWebSocketReceiveResult received;
                    do received = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
                    while (!received.EndOfMessage);
                    if (received.MessageType == WebSocketMessageType.Close) return;
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"{{\"stored\":{++stored}}}"), WebSocketMessageType.Text, true, context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        });
        app.MapPost("/v1/logs", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        return new ClientReceiver(app, port);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
