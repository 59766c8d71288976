using System.Globalization;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.Edge.Sources.Http;

/// <summary>
/// What happens to one JSON event (an NDJSON line, an array element, a WebSocket message): its kind is
/// read from the payload, then it is routed, sampled and marked up like any event. The payload is kept
/// as it came.
/// </summary>
/// <remarks>
/// Kind: the payload's <c>kind</c> (or <c>type</c>) when it is log, metric, trace or event; otherwise
/// <c>metric</c> when it has <c>metric_name</c> (the seed's counter/timer examples); otherwise <c>event</c>.
/// A metric needs a string <c>metric_name</c> and a numeric <c>metric_value</c>; <c>metric_type</c> is counter
/// (default) or timer. <c>message</c> or <c>msg</c> becomes the envelope's message; <c>app</c>,
/// <c>level</c>/<c>severity</c> feed routing. The Kafka key is the route's KeyField, else the payload's
/// <c>host</c>/<c>hostname</c>, else none (Kafka spreads unkeyed events).
/// </remarks>
internal sealed class JsonEventIngest(Router router, EdgePublisher publisher, LossLedger ledger, TimeProvider time)
{
    /// <summary>Prepares one event, or explains in <paramref name="error"/> why it is not one.</summary>
    public PreparedEvent? Prepare(JsonElement payload, IngestOrigin origin, out string? error)
    {
        error = null;
        if (payload.ValueKind != JsonValueKind.Object)
        {
            error = "an event must be a JSON object";
            return null;
        }
        var kind = KindOf(payload);
        var metric = default(MetricValue);
        if (kind == EventKinds.Metric && !TryReadMetric(payload, out metric, out error)) return null;

        var receivedAt = time.GetUtcNow();
        var app = Text(payload, "app") ?? Text(payload, "app_name") ?? Text(payload, "service");
        var facts = new RoutingFacts
        {
            Facility = -1,
            Severity = SeverityOf(payload),
            App = app is null ? default : Encoding.UTF8.GetBytes(app),
            Kind = kind,
            Tenant = origin.Stream?.Tenant ?? origin.Listener.Tenant,
            Listener = origin.Listener.Name,
            Payload = payload,
            HasPayload = true,
        };
        var route = router.Choose(facts);
        var cell = ledger.Cell(origin.Listener.Name, route.Name);
        if (!route.Keep())
        {
            cell.ReceivedAndDropped(DropReason.SampledOut);
            return null;
        }
        var message = Text(payload, "message") ?? Text(payload, "msg");
        var envelope = EnvelopeWriter.ForCurrentThread.WriteJsonEvent(new EnvelopeHeader(receivedAt, kind, origin, route.SampleRate), payload, message, metric);
        return new PreparedEvent(route, cell, Key(payload, route), envelope.ToArray(), origin.Listener.Buffer);
    }

    /// <summary>A message that is not JSON (WebSocket text): a log event carrying the text as its message.</summary>
    public PreparedEvent? PrepareText(string text, IngestOrigin origin)
    {
        using var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["message"] = text }, HttpJson.Default.DictionaryStringString));
        var prepared = Prepare(document.RootElement, origin, out _);
        return prepared;
    }

    /// <summary>Hands a prepared event over; <paramref name="senderWaits"/> as for <see cref="EdgePublisher.Publish"/>.</summary>
    public PublishOutcome Offer(PreparedEvent prepared, DeliveryWaiter? waiter = null, bool senderWaits = false) =>
        prepared.OfferTo(publisher, waiter, senderWaits);

    private static string KindOf(JsonElement payload)
    {
        var declared = Text(payload, "kind") ?? Text(payload, "type");
        if (declared is not null && EventKinds.IsKnown(declared.ToLowerInvariant())) return declared.ToLowerInvariant();
        return payload.TryGetProperty("metric_name", out _) ? EventKinds.Metric : EventKinds.Event;
    }

    private static bool TryReadMetric(JsonElement payload, out MetricValue metric, out string? error)
    {
        metric = default;
        var name = Text(payload, "metric_name");
        if (string.IsNullOrEmpty(name))
        {
            error = "a metric needs a string metric_name";
            return false;
        }
        double value;
        if (!payload.TryGetProperty("metric_value", out var raw)
            || !(raw.ValueKind == JsonValueKind.Number ? raw.TryGetDouble(out value)
                : raw.ValueKind == JsonValueKind.String && double.TryParse(raw.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value)))
        {
            error = "a metric needs a numeric metric_value";
            return false;
        }
        var type = (Text(payload, "metric_type") ?? "counter").ToLowerInvariant();
        if (type is not ("counter" or "timer"))
        {
            error = $"metric_type must be counter or timer, not '{type}'";
            return false;
        }
        metric = new MetricValue(name, value, type);
        error = null;
        return true;
    }

    private static int SeverityOf(JsonElement payload)
    {
        var level = Text(payload, "level") ?? Text(payload, "severity");
        if (level is null) return -1;
        return level.ToLowerInvariant() switch
        {
            "emerg" or "emergency" or "panic" or "fatal" => 0,
            "alert" => 1,
            "crit" or "critical" => 2,
            "err" or "error" => 3,
            "warn" or "warning" => 4,
            "notice" => 5,
            "info" or "information" or "informational" => 6,
            "debug" or "trace" => 7,
            _ => -1,
        };
    }

    private static byte[]? Key(JsonElement payload, EventRoute route)
    {
        string? key = null;
        if (route.KeyField is { } field && PayloadPath.TryGet(payload, field.Split('.'), out var value))
            key = value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();
        key ??= Text(payload, "host") ?? Text(payload, "hostname");
        return key is null ? null : Encoding.UTF8.GetBytes(key);
    }

    private static string? Text(JsonElement payload, string name) =>
        payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(IngestResponse))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class HttpJson : System.Text.Json.Serialization.JsonSerializerContext;
