using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Metrics;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// OTLP/HTTP: <c>POST /v1/logs</c> in binary protobuf or JSON, gzip or not, on every HTTP listener (local runs and
/// compose add one on 4318, OTLP's port). Authentication, tenants, limits, routing and sampling are those of
/// <c>/v1/events</c>. <c>/v1/metrics</c> and <c>/v1/traces</c> are refused (404, not retried by exporters): this edge
/// takes logs; metrics and traces belong to an OpenTelemetry Collector or a tracing backend.
/// </summary>
/// <remarks>
/// Answers, as the OTLP specification says: 200 with an empty <c>ExportLogsServiceResponse</c>, or with
/// <c>partial_success</c> (rejected count and why) when some records were left out; 400 when the body is not an
/// OTLP request (nothing of it kept); 401; 413 over <c>MaxBodyBytes</c>; 415 for another Content-Type or
/// Content-Encoding. While the memory buffer is full and Kafka acknowledging, a request waits for room (no disk);
/// 503 with Retry-After when the buffers are full for good (Kafka silent, the spool full) — a 503 after part of the request was taken
/// means the exporter sends all of it again, so that part arrives twice (OTLP has no per-record acknowledgement;
/// records carrying <c>log.record.uid</c> keep it as their id, so sinks unique by id keep one copy).
/// </remarks>
internal static class OtlpEndpoints
{
    private const string Logs = "logs";

    public static void MapOtlp(this WebApplication app, HttpListenerSet listeners)
    {
        var options = app.Services.GetRequiredService<EdgeOptions>().Http;
        var auth = app.Services.GetRequiredService<IngestAuthenticator>();
        var ingest = app.Services.GetRequiredService<OtlpLogIngest>();
        var publisher = app.Services.GetRequiredService<EdgePublisher>();
        var metrics = app.Services.GetRequiredService<OtlpMetrics>();
        var backpressure = app.Services.GetRequiredService<EdgeMetrics>().HttpBackpressure;
        var redact = options.RedactHeaders.ToHashSet(StringComparer.OrdinalIgnoreCase);

        app.MapPost("/v1/logs", (Func<HttpContext, Task<IResult>>)(async context =>
        {
            var encoding = OtlpReply.EncodingOf(context.Request.ContentType);
            var result = await ExportLogsAsync(context, encoding, listeners.For(context), options, auth, ingest, publisher, redact, metrics, backpressure);
            metrics.Request(Logs, EncodingName(encoding), result is IStatusCodeHttpResult { StatusCode: { } status } ? status : StatusCodes.Status200OK);
            return result;
        })).WithMetadata(IngestEndpoint.Instance);
        foreach (var signal in new[] { "metrics", "traces" })
        {
            app.MapPost("/v1/" + signal, (HttpContext context) =>
            {
                var encoding = OtlpReply.EncodingOf(context.Request.ContentType);
                metrics.Request(signal, EncodingName(encoding), StatusCodes.Status404NotFound);
                return OtlpReply.Failure(encoding ?? OtlpEncoding.Json, StatusCodes.Status404NotFound,
                    $"this edge takes OTLP logs only (POST /v1/logs); send {signal} to an OpenTelemetry Collector or a backend for {signal}");
            });
        }
    }

    private static async Task<IResult> ExportLogsAsync(HttpContext context, OtlpEncoding? requested, HttpListenerMarkup listener, HttpIngestOptions options,
        IngestAuthenticator auth, OtlpLogIngest ingest, EdgePublisher publisher, HashSet<string> redact, OtlpMetrics metrics, CounterFamily backpressure)
    {
        if (requested is not { } encoding)
            return OtlpReply.Failure(OtlpEncoding.Json, StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type '{context.Request.ContentType}' is not OTLP: send application/x-protobuf or application/json");
        var contentEncoding = context.Request.Headers.ContentEncoding.ToString();
        if (contentEncoding.Length > 0 && !contentEncoding.Equals("gzip", StringComparison.OrdinalIgnoreCase)
            && !contentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            return OtlpReply.Failure(encoding, StatusCodes.Status415UnsupportedMediaType, $"Content-Encoding '{contentEncoding}' is not supported: send gzip or none");
        var caller = auth.Authenticate(context.Request);
        if (!caller.Allowed)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return OtlpReply.Failure(encoding, StatusCodes.Status401Unauthorized, "a valid bearer token is required (Authorization: Bearer <token>)");
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = options.MaxBodyBytes;
        if (context.Request.ContentLength > options.MaxBodyBytes) return TooLarge(encoding, options);
        if (!publisher.HasRoom(RoutePriority.Normal, listener.Otlp.Buffer, context.Request.ContentLength ?? 0))
            return Busy(context, encoding, options, "the edge's buffers are full; nothing was taken; retry later");

        byte[] body;
        int length;
        try
        {
            (body, length) = await RequestBody.ReadAsync(context.Request, options.MaxBodyBytes, context.RequestAborted);
        }
        catch (Exception ex) when (ex is BodyTooLargeException
            || ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            return TooLarge(encoding, options);
        }
        catch (InvalidDataException)
        {
            return OtlpReply.Failure(encoding, StatusCodes.Status400BadRequest, "the body is not valid gzip");
        }
        catch (BadHttpRequestException ex)
        {
            // E.g. 408: the body came slower than MinRequestBodyBytesPerSecond.
            return OtlpReply.Failure(encoding, ex.StatusCode, ex.Message);
        }
        try
        {
            var batch = OtlpLogBatch.Rent();
            try
            {
                if (encoding == OtlpEncoding.Protobuf) OtlpProtobufLogs.Read(body.AsSpan(0, length), batch);
                else OtlpJsonLogs.Read(body.AsMemory(0, length), batch);
            }
            catch (OtlpFormatException ex)
            {
                return OtlpReply.Failure(encoding, StatusCodes.Status400BadRequest,
                    $"the body is not an OTLP ExportLogsServiceRequest ({(encoding == OtlpEncoding.Protobuf ? "protobuf" : "JSON")}): {ex.Message}; nothing was kept");
            }
            var origin = new IngestOrigin(listener.Otlp, RequestOrigin.Peer(context), RequestOrigin.Stream(context, redact, caller.Tenant));
            var result = OtlpExportResult.For(batch);
            while (ingest.Publish(batch, origin, result))
            {
                // Kafka slower than the records come: the request waits and goes on where it stopped (as /v1/events does);
                // when waiting would not help, result.Full stays set and the reply is 503.
                backpressure.For(("listener", listener.Otlp.Name)).Inc();
                if (!await publisher.WaitToOfferAgainAsync(listener.Otlp.Buffer, context.RequestAborted)) break;
            }
            metrics.Records(result);
            if (result.Full)
            {
                return Busy(context, encoding, options,
                    $"the edge's buffers are full: {result.Accepted} of {batch.Records.Count + batch.Rejected} records were taken before they filled; retry later");
            }
            return OtlpReply.Success(encoding, result.Rejected + result.Shed, PartialSuccessMessage(result));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static string? PartialSuccessMessage(OtlpExportResult result)
    {
        if (result.Rejected == 0 && result.Shed == 0) return null;
        var parts = new List<string>(2);
        if (result.Rejected > 0) parts.Add($"{result.Rejected} record(s) rejected, the first because {result.FirstRejection}");
        if (result.Shed > 0) parts.Add($"{result.Shed} record(s) shed: the edge's buffers are filling and their route has low priority");
        return string.Join("; ", parts);
    }

    private static IResult TooLarge(OtlpEncoding encoding, HttpIngestOptions options) =>
        OtlpReply.Failure(encoding, StatusCodes.Status413PayloadTooLarge,
            $"the body is larger than {options.MaxBodyBytes} bytes (before or after gzip); nothing was kept; send smaller batches");

    private static IResult Busy(HttpContext context, OtlpEncoding encoding, HttpIngestOptions options, string message)
    {
        context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return OtlpReply.Failure(encoding, StatusCodes.Status503ServiceUnavailable, message);
    }

    private static string EncodingName(OtlpEncoding? encoding) => encoding switch
    {
        OtlpEncoding.Protobuf => "protobuf",
        OtlpEncoding.Json => "json",
        _ => "other",
    };
}
