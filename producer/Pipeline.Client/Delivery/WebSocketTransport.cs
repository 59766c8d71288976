using System.Buffers.Text;
using System.Net.WebSockets;

namespace Pipeline.Client.Delivery;

/// <summary>
/// Delivers over the edge's WebSocket stream (<c>/v1/stream</c>): one text message per event, at most
/// <see cref="PipelineClientOptions.MaxBatchEvents"/> unanswered at a time. The edge answers every message, in
/// order, with <c>{"stored":N}</c>, the running count it stored on this connection: each answer settles the oldest
/// unanswered event (stored when N went up; sampled out or shed by its route when it did not).
/// </summary>
internal sealed class WebSocketTransport(PipelineClientOptions options, Outbox outbox, ClientMetrics metrics) : ITransport
{
    private readonly Uri _stream = StreamAddress(options.Endpoint);
    private readonly Queue<EncodedEvent> _unanswered = new();

    public async Task RunAsync(Backoff backoff, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        if (options.Token is { } token) socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connecting.CancelAfter(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(_stream, connecting.Token);
        }
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var window = new SemaphoreSlim(options.MaxBatchEvents, options.MaxBatchEvents);
        var answers = ReadAnswersAsync(socket, window, backoff, connection);
        try
        {
            var live = connection.Token;
            while (true)
            {
                await window.WaitAsync(live);
                if (!outbox.TryTake(out var item))
                {
                    window.Release();
                    await outbox.WaitToTakeAsync(live);
                    continue;
                }
                // Unanswered from the moment it may have left: if the connection breaks now, it is sent again.
                lock (_unanswered) _unanswered.Enqueue(item);
                await socket.SendAsync(item.Json, WebSocketMessageType.Text, endOfMessage: true, live);
            }
        }
        finally
        {
            await connection.CancelAsync();
            await answers;
        }
    }

    public IReadOnlyList<EncodedEvent> TakeUnanswered()
    {
        lock (_unanswered)
        {
            var items = _unanswered.ToList();
            _unanswered.Clear();
            return items;
        }
    }

    public void Dispose()
    {
    }

    private async Task ReadAnswersAsync(ClientWebSocket socket, SemaphoreSlim window, Backoff backoff, CancellationTokenSource connection)
    {
        var buffer = new byte[128];
        long stored = 0;
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await socket.ReceiveAsync(buffer.AsMemory(length), connection.Token);
                    length += received.Count;
                } while (!received.EndOfMessage && length < buffer.Length);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    // The edge closes a stream on an event larger than it takes: the oldest unanswered one.
                    if (socket.CloseStatus == WebSocketCloseStatus.MessageTooBig && TryTakeOldest(out var tooLarge))
                    {
                        outbox.Done(tooLarge);
                        metrics.Dropped(DropReason.TooLarge);
                    }
                    return;
                }
                if (!TryReadStored(buffer.AsSpan(0, length), out var count) || !TryTakeOldest(out var answered)) return;
                metrics.Answered(stored: count > stored);
                stored = count;
                outbox.Done(answered);
                window.Release();
                backoff.Reset();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The connection ended: what is unanswered goes out again on the next one.
        }
        finally
        {
            await connection.CancelAsync();
        }
    }

    private bool TryTakeOldest(out EncodedEvent item)
    {
        lock (_unanswered) return _unanswered.TryDequeue(out item);
    }

    /// <summary>N of <c>{"stored":N}</c>.</summary>
    private static bool TryReadStored(ReadOnlySpan<byte> answer, out long stored)
    {
        stored = 0;
        var at = answer.IndexOf("\"stored\":"u8);
        return at >= 0 && Utf8Parser.TryParse(answer[(at + 9)..], out stored, out _);
    }

    private static Uri StreamAddress(Uri endpoint) => new UriBuilder(endpoint)
    {
        Scheme = endpoint.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        Path = endpoint.AbsolutePath.TrimEnd('/') + "/v1/stream",
    }.Uri;
}
