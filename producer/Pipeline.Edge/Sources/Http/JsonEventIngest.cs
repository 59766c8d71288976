using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Sources.Http;

/// <summary>What became of one JSON event handed to <see cref="JsonEventIngest.Publish"/>.</summary>
internal enum JsonIngestOutcome
{
    Accepted,
    Shed,
    SampledOut,
    /// <summary>Not an event (the error says why); nothing was counted.</summary>
    Invalid,
    /// <summary>Refused for its size (the error says why); counted as too_large.</summary>
    TooLarge,
    /// <summary>No room: nothing was taken.</summary>
    Full,
}

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
/// <c>host</c>/<c>hostname</c>, else none (Kafka spreads unkeyed events). A payload <c>id</c> that is a ULID (as
/// <c>Pipeline.Client</c> mints them) becomes the envelope's id, so an event sent again keeps it; a payload
/// <c>sample_rate</c> (a whole number ≥ 1: the sender kept 1 in N) multiplies the route's own rate in the envelope.
/// </remarks>
internal sealed class JsonEventIngest(Router router, EdgePublisher publisher, LossLedger ledger, TimeProvider time)
{
    /// <summary>
    /// Prepares one event (with its own copy of its bytes); null when there is nothing to publish, and then
    /// <paramref name="outcome"/> says why (<see cref="JsonIngestOutcome.SampledOut"/>, or with <paramref name="error"/>
    /// set <see cref="JsonIngestOutcome.Invalid"/> or <see cref="JsonIngestOutcome.TooLarge"/>).
    /// </summary>
    public PreparedEvent? Prepare(JsonElement payload, IngestOrigin origin, out JsonIngestOutcome outcome, out string? error)
    {
        var prepared = PrepareInPlace(payload, origin, out outcome, out error);
        return prepared.Route is null ? null : prepared.ToOwned();
    }

    /// <summary>Counts an event refused before parsing because it is longer than <paramref name="limit"/>, and says why.</summary>
    public string RefuseTooLarge(IngestOrigin origin, long length, int limit)
    {
        ledger.Cell(origin.Listener.Name, LossLedger.Unrouted).ReceivedAndDropped(DropReason.TooLarge);
        return $"too_large: the event is {length} bytes, more than Edge:Http:MaxEventBytes ({limit}); it was not accepted";
    }

    /// <summary>
    /// Routes, samples, marks up and publishes one event at once, over borrowed bytes (the request body and
    /// the thread's envelope buffer): the hot path of <c>POST /v1/events</c>. Its request can wait for room
    /// (<see cref="JsonIngestOutcome.Full"/> while Kafka only acknowledges slower than events come).
    /// </summary>
    public JsonIngestOutcome Publish(JsonElement payload, IngestOrigin origin, DeliveryWaiter? waiter, out string? error)
    {
        var prepared = PrepareInPlace(payload, origin, out var outcome, out error);
        if (prepared.Route is null) return outcome;
        switch (publisher.Publish(prepared.Route, prepared.Cell, prepared.Key, prepared.HasKey, prepared.Envelope, prepared.Buffer, waiter, senderWaits: true))
        {
            case PublishOutcome.Accepted: return JsonIngestOutcome.Accepted;
            case PublishOutcome.Shed: return JsonIngestOutcome.Shed;
            case PublishOutcome.TooLarge:
                error = publisher.Limit.TooLargeError(prepared.Envelope.Length);
                return JsonIngestOutcome.TooLarge;
            default: return JsonIngestOutcome.Full;
        }
    }

    /// <summary>A message that is not JSON (WebSocket text): a log event carrying the text as its message.</summary>
    public PreparedEvent? PrepareText(string text, IngestOrigin origin, out JsonIngestOutcome outcome, out string? error)
    {
        using var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["message"] = text }, HttpJson.Default.DictionaryStringString));
        return Prepare(document.RootElement, origin, out outcome, out error);
    }

    /// <summary>Hands a prepared event over; <paramref name="senderWaits"/> as for <see cref="EdgePublisher.Publish"/>.</summary>
    public PublishOutcome Offer(PreparedEvent prepared, DeliveryWaiter? waiter = null, bool senderWaits = false) =>
        prepared.OfferTo(publisher, waiter, senderWaits);

    /// <summary>As <see cref="Prepare"/>, over borrowed bytes; the route is null when there is nothing to publish.</summary>
    private BorrowedEvent PrepareInPlace(JsonElement payload, IngestOrigin origin, out JsonIngestOutcome outcome, out string? error)
    {
        error = null;
        outcome = JsonIngestOutcome.Invalid;
        if (payload.ValueKind != JsonValueKind.Object)
        {
            error = "an event must be a JSON object";
            return default;
        }
        var fields = new PayloadFields(payload);
        var kind = fields.Kind();
        var metric = default(MetricValue);
        if (kind == EventKinds.Metric && !TryReadMetric(payload, out metric, out error)) return default;

        var receivedAt = time.GetUtcNow();
        var facts = new RoutingFacts
        {
            Facility = -1,
            Severity = fields.Severity(),
            App = fields.App(),
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
            outcome = JsonIngestOutcome.SampledOut;
            return default;
        }
        var sampleRate = (int)Math.Min(int.MaxValue, (long)route.SampleRate * fields.SenderSampleRate());
        var envelope = EnvelopeWriter.ForCurrentThread.WriteJsonEvent(new EnvelopeHeader(receivedAt, kind, origin, sampleRate), payload,
            fields.Message, metric, fields.SenderId());
        var hasKey = TryKey(payload, route, fields, out var key);
        if (!publisher.Limit.Fits(hasKey ? key.Length : 0, envelope.Length))
        {
            cell.ReceivedAndDropped(DropReason.TooLarge);
            error = publisher.Limit.TooLargeError(envelope.Length);
            outcome = JsonIngestOutcome.TooLarge;
            return default;
        }
        outcome = JsonIngestOutcome.Accepted;
        return new BorrowedEvent(route, cell, key, hasKey, envelope, origin.Listener.Buffer);
    }

    private static bool TryKey(JsonElement payload, EventRoute route, scoped in PayloadFields fields, out ReadOnlySpan<byte> key)
    {
        if (route.KeyField is { } field && PayloadPath.TryGet(payload, field.Split('.'), out var value))
        {
            key = Encoding.UTF8.GetBytes(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
            return true;
        }
        key = fields.Host();
        return fields.HasHost;
    }

    private static string? Text(JsonElement payload, string name) =>
        payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

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

    /// <summary>The string properties markup and routing read, found in one pass over the payload's top level.</summary>
    private struct PayloadFields
    {
        private static readonly string[] Known =
            ["kind", "type", "metric_name", "app", "app_name", "service", "level", "severity", "message", "msg", "host", "hostname", "id", "sample_rate"];

        private JsonElement _kind, _type, _metricName, _app, _appName, _service, _level, _severity, _message, _msg, _host, _hostname, _id, _sampleRate;

        public PayloadFields(JsonElement payload)
        {
            // The last of duplicated names wins, as with a lookup by name.
            foreach (var property in payload.EnumerateObject())
            {
                var name = JsonMarshal.GetRawUtf8PropertyName(property);
                if (name.Contains((byte)'\\'))
                {
                    // An escaped name: rare enough to compare the slow way.
                    foreach (var known in Known)
                        if (property.NameEquals(known)) Assign(Encoding.UTF8.GetBytes(known), property.Value);
                    continue;
                }
                Assign(name, property.Value);
            }
        }

        /// <summary><c>message</c>, else <c>msg</c>, when a string; else undefined.</summary>
        public readonly JsonElement Message => IsString(_message) ? _message : IsString(_msg) ? _msg : default;

        public readonly bool HasHost => IsString(_host) || IsString(_hostname);

        public readonly ReadOnlySpan<byte> Host() => Utf8(IsString(_host) ? _host : _hostname);

        /// <summary>The sender's own id for the event (a string), else empty; the envelope writer keeps it only when it is a ULID.</summary>
        public readonly ReadOnlySpan<byte> SenderId() => Utf8(_id);

        /// <summary>The sender's sampling (kept 1 in N): a whole number ≥ 1, else 1.</summary>
        public readonly int SenderSampleRate() =>
            _sampleRate.ValueKind == JsonValueKind.Number && _sampleRate.TryGetInt32(out var rate) && rate >= 1 ? rate : 1;

        public readonly ReadOnlySpan<byte> App() => Utf8(IsString(_app) ? _app : IsString(_appName) ? _appName : _service);

        /// <summary>The payload's <c>kind</c> (or <c>type</c>) when known; else metric when it has <c>metric_name</c>; else event.</summary>
        public readonly string Kind()
        {
            var declared = Utf8(IsString(_kind) ? _kind : _type);
            if (!declared.IsEmpty)
                foreach (var kind in (ReadOnlySpan<string>)[EventKinds.Log, EventKinds.Metric, EventKinds.Trace, EventKinds.Event])
                    if (Ascii.EqualsIgnoreCase(declared, kind)) return kind;
            return _metricName.ValueKind != JsonValueKind.Undefined ? EventKinds.Metric : EventKinds.Event;
        }

        /// <summary>The syslog severity <c>level</c> (or <c>severity</c>) names, case-insensitively; -1 when none or unknown.</summary>
        public readonly int Severity() => SyslogNames.SeverityOfLevel(Utf8(IsString(_level) ? _level : _severity));

        private void Assign(ReadOnlySpan<byte> name, JsonElement value)
        {
            switch (name.Length)
            {
                case 2 when name.SequenceEqual("id"u8): _id = value; break;
                case 3 when name.SequenceEqual("app"u8): _app = value; break;
                case 3 when name.SequenceEqual("msg"u8): _msg = value; break;
                case 4 when name.SequenceEqual("kind"u8): _kind = value; break;
                case 4 when name.SequenceEqual("type"u8): _type = value; break;
                case 4 when name.SequenceEqual("host"u8): _host = value; break;
                case 5 when name.SequenceEqual("level"u8): _level = value; break;
                case 7 when name.SequenceEqual("message"u8): _message = value; break;
                case 7 when name.SequenceEqual("service"u8): _service = value; break;
                case 8 when name.SequenceEqual("app_name"u8): _appName = value; break;
                case 8 when name.SequenceEqual("severity"u8): _severity = value; break;
                case 8 when name.SequenceEqual("hostname"u8): _hostname = value; break;
                case 11 when name.SequenceEqual("metric_name"u8): _metricName = value; break;
                case 11 when name.SequenceEqual("sample_rate"u8): _sampleRate = value; break;
            }
        }

        private static bool IsString(JsonElement value) => value.ValueKind == JsonValueKind.String;

        /// <summary>A string's UTF-8 bytes: a slice of the payload itself unless it has escapes; empty when not a string.</summary>
        private static ReadOnlySpan<byte> Utf8(JsonElement value)
        {
            if (!IsString(value)) return default;
            var inner = JsonMarshal.GetRawUtf8Value(value)[1..^1];
            return inner.Contains((byte)'\\') ? Encoding.UTF8.GetBytes(value.GetString()!) : inner;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(IngestResponse))]
[System.Text.Json.Serialization.JsonSerializable(typeof(StreamReply))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class HttpJson : System.Text.Json.Serialization.JsonSerializerContext;
