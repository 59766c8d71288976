using System.Text.Json;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>What became of the log records of one OTLP request.</summary>
internal sealed class OtlpExportResult
{
    public int Accepted { get; set; }
    public int SampledOut { get; set; }
    public int Shed { get; set; }
    public int Rejected { get; set; }
    public string? FirstRejection { get; set; }
    /// <summary>The buffers filled before every record was taken: <see cref="Next"/> is the first not taken.</summary>
    public bool Full { get; set; }

    /// <summary>The record to offer next (all of them offered once it is the batch's count).</summary>
    public int Next { get; set; }

    /// <summary>A batch's result before any record is offered: what decoding it rejected.</summary>
    public static OtlpExportResult For(OtlpLogBatch batch) => new() { Rejected = batch.Rejected, FirstRejection = batch.FirstRejection };

    public void Reject(string reason)
    {
        Rejected++;
        FirstRejection ??= reason;
    }
}

/// <summary>
/// What happens to the decoded records of one OTLP request: each is routed, sampled, marked up and published
/// exactly as a <c>/v1/events</c> event is (kind <c>log</c>; the route sees the record's severity on the syslog
/// scale, <c>service.name</c> as its app, and its payload when a rule asks for a field). The Kafka key is the
/// route's KeyField, else the resource's <c>host.name</c>, else its <c>service.name</c>: one source stays in order.
/// </summary>
internal sealed class OtlpLogIngest(Router router, EdgePublisher publisher, LossLedger ledger, TimeProvider time, EdgeOptions options)
{
    private readonly int _eventLimit = options.Http.EventLimit;

    /// <summary>
    /// Offers the records from <see cref="OtlpExportResult.Next"/> on, tallying <paramref name="result"/>; true when the buffers
    /// filled first (<see cref="OtlpExportResult.Full"/>): the request can wait for room and call again to go on from there.
    /// </summary>
    public bool Publish(OtlpLogBatch batch, IngestOrigin origin, OtlpExportResult result)
    {
        var records = batch.Records;
        result.Full = false;
        for (; result.Next < records.Count; result.Next++)
        {
            switch (PublishOne(batch, records[result.Next], origin))
            {
                case JsonIngestOutcome.Accepted: result.Accepted++; break;
                case JsonIngestOutcome.SampledOut: result.SampledOut++; break;
                case JsonIngestOutcome.Shed: result.Shed++; break;
                case JsonIngestOutcome.Invalid: result.Reject($"a record is larger than {_eventLimit} bytes as an envelope (Edge:Http:MaxEventBytes)"); break;
                default:
                    result.Full = true;
                    return true;
            }
        }
        return false;
    }

    private JsonIngestOutcome PublishOne(OtlpLogBatch batch, in LogSlot slot, IngestOrigin origin)
    {
        var receivedAt = time.GetUtcNow();
        var payload = batch.Payload(slot);
        // Parsed only when a rule reads a payload field: the common case routes on severity, app and tenant alone.
        using var document = router.ReadsPayload ? JsonDocument.Parse(payload) : null;
        var facts = new RoutingFacts
        {
            Facility = -1,
            Severity = slot.Severity,
            App = batch.Text(slot.Service),
            Kind = EventKinds.Log,
            Tenant = origin.Stream?.Tenant ?? origin.Listener.Tenant,
            Listener = origin.Listener.Name,
            Payload = document?.RootElement ?? default,
            HasPayload = true,
        };
        var route = router.Choose(facts);
        var cell = ledger.Cell(origin.Listener.Name, route.Name);
        if (!route.Keep())
        {
            cell.ReceivedAndDropped(DropReason.SampledOut);
            return JsonIngestOutcome.SampledOut;
        }
        var envelope = EnvelopeWriter.ForCurrentThread.WriteRendered(new EnvelopeHeader(receivedAt, EventKinds.Log, origin, route.SampleRate),
            batch.Message(slot), payload.Span, batch.Text(slot.Uid));
        if (envelope.Length > _eventLimit)
        {
            cell.ReceivedAndDropped(DropReason.TooLarge);
            return JsonIngestOutcome.Invalid;
        }
        var hasKey = TryKey(batch, slot, route, document, out var key);
        // The request can wait for room (Full while Kafka only acknowledges slower than records come).
        return publisher.Publish(route, cell, key, hasKey, envelope, origin.Listener.Buffer, senderWaits: true) switch
        {
            PublishOutcome.Accepted => JsonIngestOutcome.Accepted,
            PublishOutcome.Shed => JsonIngestOutcome.Shed,
            _ => JsonIngestOutcome.Full,
        };
    }

    private static bool TryKey(OtlpLogBatch batch, in LogSlot slot, EventRoute route, JsonDocument? document, out ReadOnlySpan<byte> key)
    {
        if (route.KeyField is { } field && document is not null && PayloadPath.TryGet(document.RootElement, field.Split('.'), out var value))
        {
            key = System.Text.Encoding.UTF8.GetBytes(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
            return true;
        }
        key = batch.Text(slot.Host.Length > 0 ? slot.Host : slot.Service);
        return !key.IsEmpty;
    }
}
