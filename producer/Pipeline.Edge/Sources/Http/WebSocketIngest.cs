using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;

namespace Pipeline.Edge.Sources.Http;

/// <summary>
/// <c>GET /v1/stream</c>: a WebSocket, one event per message, each answered with the running count stored. A stream
/// waits while the buffers are full, as a TCP connection does; a message over <c>MaxEventBytes</c> is refused and the
/// stream goes on.
/// </summary>
internal static class WebSocketIngest
{
    public static async Task StreamAsync(HttpContext context, ListenerMarkup markup, HttpIngestOptions options, IngestAuthenticator auth,
        JsonEventIngest ingest, EdgePublisher publisher, HashSet<string> redact)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("GET /v1/stream is a WebSocket endpoint");
            return;
        }
        var caller = auth.Authenticate(context.Request);
        if (!caller.Allowed)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var origin = new IngestOrigin(markup, RequestOrigin.Peer(context), RequestOrigin.Stream(context, redact, caller.Tenant));
        var buffer = ArrayPool<byte>.Shared.Rent(options.EventLimit + 1);
        var stored = 0L;
        var aborted = context.RequestAborted;
        try
        {
            while (socket.State == WebSocketState.Open && !aborted.IsCancellationRequested)
            {
                var length = 0L;
                ValueWebSocketReceiveResult received;
                do
                {
                    // Past the limit the rest of the message is read and let go: the event is refused, the stream goes on.
                    var room = length > options.EventLimit ? buffer.AsMemory(0) : buffer.AsMemory((int)length, options.EventLimit + 1 - (int)length);
                    received = await socket.ReceiveAsync(room, aborted);
                    length += received.Count;
                } while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, aborted);
                    return;
                }
                // As the seed's server does: an empty binary message hangs up.
                if (received.MessageType == WebSocketMessageType.Binary && length == 0)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "empty binary message", aborted);
                    return;
                }
                string? error = null;
                var prepared = length > options.EventLimit
                    ? null
                    : PrepareMessage(buffer.AsMemory(0, (int)length), origin, ingest, out error);
                if (length > options.EventLimit) error = ingest.RefuseTooLarge(origin, length, options.EventLimit);
                if (prepared is not null)
                {
                    PublishOutcome outcome;
                    // A WebSocket stream can wait, as a TCP connection does.
                    while ((outcome = ingest.Offer(prepared, senderWaits: true)) == PublishOutcome.Full)
                        await publisher.WaitForRoomAsync(prepared.Route.Priority, prepared.Buffer, aborted);
                    if (outcome == PublishOutcome.Accepted) stored++;
                    if (outcome == PublishOutcome.TooLarge) error = publisher.Limit.TooLargeError(prepared.Envelope.Length);
                }
                var reply = error is null
                    ? Encoding.UTF8.GetBytes($"{{\"stored\":{stored}}}")
                    : JsonSerializer.SerializeToUtf8Bytes(new StreamReply(stored, error), HttpJson.Default.StreamReply);
                await socket.SendAsync(reply, WebSocketMessageType.Text, endOfMessage: true, aborted);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away; everything stored so far stays stored.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A JSON event, or any other text as a log event carrying it; null with <paramref name="error"/> set when refused for its size.</summary>
    private static PreparedEvent? PrepareMessage(ReadOnlyMemory<byte> message, IngestOrigin origin, JsonEventIngest ingest, out string? error)
    {
        error = null;
        JsonIngestOutcome outcome;
        try
        {
            using var document = JsonDocument.Parse(message);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                var prepared = ingest.Prepare(document.RootElement, origin, out outcome, out error);
                if (outcome != JsonIngestOutcome.Invalid) return prepared;
                error = null;
            }
        }
        catch (JsonException)
        {
        }
        // Not a JSON event: kept as a log event with the text as its message, never dropped.
        return ingest.PrepareText(Encoding.UTF8.GetString(message.Span), origin, out outcome, out error);
    }
}
