using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
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
/// over <c>MaxBodyBytes</c> (before or after gzip) is 413 and nothing of it is kept. While the memory buffer is full
/// and Kafka acknowledging, a request waits for room (as a TCP sender is held back) rather than go through the disk
/// spool; when the buffers are full for good the reply is 503 with Retry-After, saying how many lines were taken and
/// from which line to resend.
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
        var metrics = app.Services.GetRequiredService<EdgeMetrics>();
        var redact = options.RedactHeaders.ToHashSet(StringComparer.OrdinalIgnoreCase);

        app.UseWebSockets();
        app.MapPost("/v1/events", (Func<HttpContext, Task<IResult>>)(context =>
            IngestAsync(context, listeners.For(context).Http, options, auth, publisher, metrics, redact, (body, origin, waiter, response) => BodyEventIngest.IngestJson(body, origin, json, options.EventLimit, waiter, response)))).WithMetadata(IngestEndpoint.Instance);
        app.MapPost("/v1/syslog", (Func<HttpContext, Task<IResult>>)(context =>
            IngestAsync(context, listeners.For(context).Http, options, auth, publisher, metrics, redact, (body, origin, waiter, response) => BodyEventIngest.IngestSyslog(body, origin, syslog, options.EventLimit, waiter, response)))).WithMetadata(IngestEndpoint.Instance);
        app.Map("/v1/stream", (HttpContext context) => WebSocketIngest.StreamAsync(context, listeners.For(context).WebSocket, options, auth, json, publisher, redact)).WithMetadata(IngestEndpoint.Instance);
    }

    /// <summary>Offers a body's events from <see cref="IngestResponse.ResumeFromLine"/> on; true when it stopped there, full.</summary>
    private delegate bool Ingest(ReadOnlyMemory<byte> body, IngestOrigin origin, DeliveryWaiter? waiter, IngestResponse response);

    private static async Task<IResult> IngestAsync(HttpContext context, ListenerMarkup markup, HttpIngestOptions options, IngestAuthenticator auth,
        EdgePublisher publisher, EdgeMetrics metrics, HashSet<string> redact, Ingest ingest)
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
            (body, length) = await RequestBody.ReadAsync(context.Request, options.MaxBodyBytes, context.RequestAborted);
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
            var origin = new IngestOrigin(markup, RequestOrigin.Peer(context), RequestOrigin.Stream(context, redact, caller.Tenant));
            var response = new IngestResponse();
            while (ingest(body.AsMemory(0, length), origin, waiter, response))
            {
                // Kafka slower than the events come: the request waits and goes on where it stopped, as a TCP sender is
                // held back; only buffers full for good (Kafka silent, the spool full) make it 503.
                metrics.HttpBackpressure.For(("listener", markup.Name)).Inc();
                if (!await publisher.WaitToOfferAgainAsync(markup.Buffer, context.RequestAborted)) return Busy(context, options, response);
            }
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

    private static IResult TooLarge(HttpIngestOptions options) =>
        Reply(StatusCodes.Status413PayloadTooLarge, new IngestResponse { Error = $"the body is larger than {options.MaxBodyBytes} bytes; nothing was kept" });

    private static IResult Busy(HttpContext context, HttpIngestOptions options, IngestResponse response)
    {
        context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Error = "the edge's buffers are full; retry later";
        return Reply(StatusCodes.Status503ServiceUnavailable, response);
    }

    private static IResult Reply(int status, IngestResponse response) => Results.Json(response, HttpJson.Default.IngestResponse, statusCode: status);
}
