using System.Buffers;
using System.IO.Compression;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Ids;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.Edge.Sources.Http;

/// <summary>
/// <c>POST /v1/events</c> (NDJSON or a JSON array, optionally gzip), <c>POST /v1/syslog</c> (syslog lines) and
/// <c>GET /v1/stream</c> (WebSocket, one event per message, each answered with the running count stored).
/// </summary>
/// <remarks>
/// Bad input policy: each line is judged alone. A line that is not a JSON object (or a metric without a
/// name and numeric value) is reported in <c>errors</c> with its line number (element number for an
/// array) and the good lines are kept; the reply is 200 unless no line at all was good (400). A line (array
/// element, WebSocket message) over <c>MaxEventBytes</c>, or whose envelope would be larger than Kafka takes, is
/// refused the same way with a <c>too_large:</c> error and counted in <c>too_large</c> and in the loss ledger. A body
/// over <c>MaxBodyBytes</c> (before or after gzip) is 413 and nothing of it is kept. When the buffers are
/// full the reply is 503 with Retry-After; it says how many lines were taken and from which line to resend.
/// </remarks>
internal static class HttpIngestEndpoints
{
    public static void MapIngest(this WebApplication app, HttpListenerSet listeners)
    {
        var options = app.Services.GetRequiredService<EdgeOptions>().Http;
        var auth = app.Services.GetRequiredService<IngestAuthenticator>();
        var json = app.Services.GetRequiredService<JsonEventIngest>();
        var syslog = app.Services.GetRequiredService<SyslogIngest>();
        var publisher = app.Services.GetRequiredService<EdgePublisher>();
        var redact = options.RedactHeaders.ToHashSet(StringComparer.OrdinalIgnoreCase);

        app.UseWebSockets();
        app.MapPost("/v1/events", (Func<HttpContext, Task<IResult>>)(context =>
            IngestAsync(context, listeners.For(context).Http, options, auth, publisher, redact, (body, origin, waiter) => IngestJson(body, origin, json, options.EventLimit, waiter)))).WithMetadata(IngestEndpoint.Instance);
        app.MapPost("/v1/syslog", (Func<HttpContext, Task<IResult>>)(context =>
            IngestAsync(context, listeners.For(context).Http, options, auth, publisher, redact, (body, origin, waiter) => IngestSyslog(body, origin, syslog, options.EventLimit, waiter)))).WithMetadata(IngestEndpoint.Instance);
        app.Map("/v1/stream", (HttpContext context) => WebSocketIngest.StreamAsync(context, listeners.For(context).WebSocket, options, auth, json, publisher, redact)).WithMetadata(IngestEndpoint.Instance);
    }

    private delegate (IngestResponse Response, bool Full) Ingest(ReadOnlyMemory<byte> body, IngestOrigin origin, DeliveryWaiter? waiter);

    private static async Task<IResult> IngestAsync(HttpContext context, ListenerMarkup markup, HttpIngestOptions options, IngestAuthenticator auth,
        EdgePublisher publisher, HashSet<string> redact, Ingest ingest)
    {
        var caller = auth.Authenticate(context.Request);
        if (!caller.Allowed)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Reply(StatusCodes.Status401Unauthorized, new IngestResponse { Error = "a valid bearer token is required" });
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = options.MaxBodyBytes;
        if (context.Request.ContentLength > options.MaxBodyBytes) return TooLarge(options);
        if (!publisher.HasRoom(RoutePriority.Normal, markup.Buffer, context.Request.ContentLength ?? 0)) return Busy(context, options, new IngestResponse { ResumeFromLine = 1 });

        byte[] body;
        int length;
        try
        {
            (body, length) = await ReadBodyAsync(context.Request, options.MaxBodyBytes, context.RequestAborted);
        }
        catch (BodyTooLargeException)
        {
            return TooLarge(options);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(options);
        }
        catch (BadHttpRequestException ex)
        {
            // E.g. 408: the body came slower than MinRequestBodyBytesPerSecond. Kestrel closes the connection after it.
            return Reply(ex.StatusCode, new IngestResponse { Error = ex.Message });
        }
        catch (InvalidDataException)
        {
            return Reply(StatusCodes.Status400BadRequest, new IngestResponse { Error = "the body is not valid gzip" });
        }
        try
        {
            var waiter = string.Equals(context.Request.Query["ack"], "kafka", StringComparison.OrdinalIgnoreCase) ? new DeliveryWaiter() : null;
            var origin = new IngestOrigin(markup, Peer(context), Stream(context, redact, caller.Tenant));
            var (response, full) = ingest(body.AsMemory(0, length), origin, waiter);
            if (full) return Busy(context, options, response);
            var status = response.Errors is { Count: > 0 } && response.Accepted + response.Shed + response.SampledOut == 0
                ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK;
            if (waiter is not null)
            {
                waiter.Seal();
                var all = await waiter.WaitAsync(options.AckTimeout, context.RequestAborted);
                var taken = response.Accepted;
                response.Acknowledged = waiter.Delivered;
                response.Accepted = waiter.Delivered;
                response.Unacknowledged = taken - waiter.Delivered;
                // Not all acknowledged in time: taken, and will be delivered, but not yet durable in Kafka.
                if (!all || waiter.Failed > 0) status = status == StatusCodes.Status200OK ? StatusCodes.Status202Accepted : status;
            }
            return Reply(status, response);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static (IngestResponse, bool) IngestJson(ReadOnlyMemory<byte> body, IngestOrigin origin, JsonEventIngest ingest, int limit, DeliveryWaiter? waiter)
    {
        var response = new IngestResponse();
        var span = body.Span;
        var first = span.IndexOfAnyExcept(" \t\r\n"u8);
        if (first >= 0 && span[first] == (byte)'[')
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException ex)
            {
                (response.Errors ??= []).Add(new LineError(1, "not a JSON array: " + ex.Message));
                return (response, false);
            }
            using (document)
            {
                var element = 0;
                foreach (var item in document.RootElement.EnumerateArray())
                {
                    element++;
                    var size = JsonMarshal.GetRawUtf8Value(item).Length;
                    var taken = size > limit
                        ? Take(JsonIngestOutcome.TooLarge, ingest.RefuseTooLarge(origin, size, limit), element, response)
                        : Take(ingest.Publish(item, origin, waiter, out var error), error, element, response);
                    if (!taken) return (response, true);
                }
            }
            return (response, false);
        }

        foreach (var (line, text) in Lines(body))
        {
            JsonIngestOutcome outcome;
            string? error;
            JsonDocument document;
            if (text.Length > limit)
            {
                Take(JsonIngestOutcome.TooLarge, ingest.RefuseTooLarge(origin, text.Length, limit), line, response);
                continue;
            }
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException ex)
            {
                (response.Errors ??= []).Add(new LineError(line, "not JSON: " + ex.Message));
                continue;
            }
            using (document) outcome = ingest.Publish(document.RootElement, origin, waiter, out error);
            if (!Take(outcome, error, line, response)) return (response, true);
        }
        return (response, false);
    }

    /// <summary>Counts one event's fate; false when the buffers are full and the request must stop here.</summary>
    private static bool Take(JsonIngestOutcome outcome, string? error, int line, IngestResponse response)
    {
        switch (outcome)
        {
            case JsonIngestOutcome.Invalid:
                (response.Errors ??= []).Add(new LineError(line, error!));
                return true;
            case JsonIngestOutcome.TooLarge:
                response.TooLarge++;
                (response.Errors ??= []).Add(new LineError(line, error!));
                return true;
            case JsonIngestOutcome.SampledOut:
                response.SampledOut++;
                return true;
            case JsonIngestOutcome.Accepted:
                response.Accepted++;
                return true;
            case JsonIngestOutcome.Shed:
                response.Shed++;
                return true;
            default:
                response.ResumeFromLine = line;
                return false;
        }
    }

    private static (IngestResponse, bool) IngestSyslog(ReadOnlyMemory<byte> body, IngestOrigin origin, SyslogIngest ingest, int limit, DeliveryWaiter? waiter)
    {
        var response = new IngestResponse();
        foreach (var (line, text) in Lines(body))
        {
            if (text.Length > limit)
            {
                Take(JsonIngestOutcome.TooLarge, ingest.RefuseTooLarge(origin, text.Length, limit), line, response);
                continue;
            }
            var prepared = ingest.Prepare(text.Span, origin, out var error);
            if (prepared is null)
            {
                if (error is null) response.SampledOut++;
                else Take(JsonIngestOutcome.TooLarge, error, line, response);
                continue;
            }
            switch (ingest.Offer(prepared, waiter))
            {
                case PublishOutcome.Accepted: response.Accepted++; break;
                case PublishOutcome.Shed: response.Shed++; break;
                case PublishOutcome.TooLarge:
                    Take(JsonIngestOutcome.TooLarge, ingest.Limit.TooLargeError(prepared.Envelope.Length), line, response);
                    break;
                default:
                    response.ResumeFromLine = line;
                    return (response, true);
            }
        }
        return (response, false);
    }

    /// <summary>The non-blank lines of a body with their 1-based numbers (blank lines count, so numbers match an editor's).</summary>
    private static IEnumerable<(int Line, ReadOnlyMemory<byte> Text)> Lines(ReadOnlyMemory<byte> body)
    {
        var line = 0;
        var rest = body;
        while (!rest.IsEmpty)
        {
            line++;
            var end = rest.Span.IndexOf((byte)'\n');
            var text = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (text.Span.IndexOfAnyExcept(" \t\r"u8) >= 0) yield return (line, text);
        }
    }

    /// <summary>Reads a request body (gunzipped when it says gzip) into a pooled buffer the caller returns; more than <paramref name="max"/> bytes throws <see cref="BodyTooLargeException"/>.</summary>
    internal static async Task<(byte[] Body, int Length)> ReadBodyAsync(HttpRequest request, long max, CancellationToken cancellationToken)
    {
        Stream source = request.Body;
        if (request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
            source = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
        await using (source)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(max + 1, Math.Max(request.ContentLength ?? 64 * 1024, 4096)));
            var length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (length > max) throw new BodyTooLargeException();
                        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(max + 1, (long)buffer.Length * 2));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    var read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken);
                    if (read == 0) break;
                    length += read;
                    if (length > max) throw new BodyTooLargeException();
                }
                return (buffer, length);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
    }

    internal static StreamMarkup Stream(HttpContext context, HashSet<string> redact, string? tenant)
    {
        var headers = context.Request.Headers.Where(h => !redact.Contains(h.Key))
            .Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), h.Value.ToString())).ToList();
        return new StreamMarkup(Ulid.NewString(DateTimeOffset.UtcNow), headers, tenant);
    }

    internal static IPEndPoint? Peer(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } ip ? new IPEndPoint(ip, context.Connection.RemotePort) : null;

    private static IResult TooLarge(HttpIngestOptions options) =>
        Reply(StatusCodes.Status413PayloadTooLarge, new IngestResponse { Error = $"the body is larger than {options.MaxBodyBytes} bytes; nothing was kept" });

    private static IResult Busy(HttpContext context, HttpIngestOptions options, IngestResponse response)
    {
        context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Error = "the edge's buffers are full; retry later";
        return Reply(StatusCodes.Status503ServiceUnavailable, response);
    }

    private static IResult Reply(int status, IngestResponse response) => Results.Json(response, HttpJson.Default.IngestResponse, statusCode: status);

    internal sealed class BodyTooLargeException : Exception;
}
