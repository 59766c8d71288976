using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Core.Envelope;

/// <summary>
/// The v1 envelope as consumers see it: one event per Kafka message, UTF-8 JSON, snake_case.
/// The edge writes it once (see <c>EnvelopeWriter</c> in the edge); everything downstream reads it with
/// <see cref="EnvelopeCodec"/>. The schema evolves by adding fields only.
/// </summary>
public sealed class TelemetryEvent
{
    /// <summary>Unique, time-sortable id (ULID) minted at the edge.</summary>
    [JsonPropertyName(EnvelopeFields.Id)]
    public string Id { get; set; } = "";

    /// <summary>Edge clock at receive time.</summary>
    [JsonPropertyName(EnvelopeFields.ReceivedAt)]
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary><c>log</c>, <c>metric</c>, <c>trace</c> or <c>event</c>.</summary>
    [JsonPropertyName(EnvelopeFields.Kind)]
    public string Kind { get; set; } = EventKinds.Log;

    [JsonPropertyName(EnvelopeFields.Source)]
    public EventSource Source { get; set; } = new();

    /// <summary>Tenant named by the ingest token, if any.</summary>
    [JsonPropertyName(EnvelopeFields.Tenant)]
    public string? Tenant { get; set; }

    [JsonPropertyName(EnvelopeFields.Tags)]
    public Dictionary<string, string>? Tags { get; set; }

    /// <summary>The event stands for this many events (kept 1 in N at the edge); 1 when unsampled.</summary>
    [JsonPropertyName(EnvelopeFields.SampleRate)]
    public int SampleRate { get; set; } = 1;

    [JsonPropertyName(EnvelopeFields.Syslog)]
    public SyslogFields? Syslog { get; set; }

    [JsonPropertyName(EnvelopeFields.Message)]
    public string? Message { get; set; }

    /// <summary>Any JSON (HTTP events).</summary>
    [JsonPropertyName(EnvelopeFields.Payload)]
    public JsonElement? Payload { get; set; }

    [JsonPropertyName(EnvelopeFields.Stream)]
    public StreamInfo? Stream { get; set; }

    /// <summary>The received line exactly as it came (syslog), so nothing is lost to a parser's opinion.</summary>
    [JsonPropertyName(EnvelopeFields.Raw)]
    public string? Raw { get; set; }

    /// <summary>The received line in base64, beside <see cref="Raw"/>, when it was not valid UTF-8 (<see cref="Raw"/> then holds replacement characters).</summary>
    [JsonPropertyName(EnvelopeFields.RawBase64)]
    public string? RawBase64 { get; set; }

    /// <summary><c>ok</c>, <c>partial</c> or <c>failed</c>: how well <see cref="Raw"/> parsed.</summary>
    [JsonPropertyName(EnvelopeFields.ParseStatus)]
    public string? ParseStatus { get; set; }

    /// <summary>Why a line parsed only partly or not at all; the event is shipped regardless.</summary>
    [JsonPropertyName(EnvelopeFields.ParseError)]
    public string? ParseError { get; set; }

    /// <summary>True when the line was longer than the edge takes and was cut (syslog); absent otherwise.</summary>
    [JsonPropertyName(EnvelopeFields.Truncated)]
    public bool? Truncated { get; set; }

    /// <summary>Metric events: name, value and type (HTTP counters and timers as the seed's examples send them; scraped samples with labels and more).</summary>
    [JsonPropertyName(EnvelopeFields.Metric)]
    public MetricFields? Metric { get; set; }
}

public sealed class EventSource
{
    /// <summary><c>udp</c>, <c>tcp</c>, <c>tls</c>, <c>http</c>, <c>websocket</c> or <c>stdin</c>.</summary>
    [JsonPropertyName(EnvelopeFields.OfSource.Transport)]
    public string Transport { get; set; } = "";
    [JsonPropertyName(EnvelopeFields.OfSource.Ip)]
    public string? Ip { get; set; }
    [JsonPropertyName(EnvelopeFields.OfSource.Port)]
    public int? Port { get; set; }
    /// <summary>Host name of the edge that received the event.</summary>
    [JsonPropertyName(EnvelopeFields.OfSource.Edge)]
    public string? Edge { get; set; }
}

public sealed class SyslogFields
{
    /// <summary>0–23; absent when the line had no valid PRI.</summary>
    [JsonPropertyName(EnvelopeFields.OfSyslog.Facility)]
    public int? Facility { get; set; }
    /// <summary>0–7; absent when the line had no valid PRI.</summary>
    [JsonPropertyName(EnvelopeFields.OfSyslog.Severity)]
    public int? Severity { get; set; }
    /// <summary>The RFC 5424 VERSION the line gave (1 today); absent for lines without one.</summary>
    [JsonPropertyName(EnvelopeFields.OfSyslog.Version)]
    public int? Version { get; set; }
    /// <summary>When the event happened at its origin, as the line says (resolved to an offset; up to 9 fraction digits).</summary>
    [JsonPropertyName(EnvelopeFields.OfSyslog.Timestamp)]
    public DateTimeOffset? Timestamp { get; set; }
    [JsonPropertyName(EnvelopeFields.OfSyslog.Hostname)]
    public string? Hostname { get; set; }
    [JsonPropertyName(EnvelopeFields.OfSyslog.AppName)]
    public string? AppName { get; set; }
    [JsonPropertyName(EnvelopeFields.OfSyslog.Procid)]
    public string? Procid { get; set; }
    [JsonPropertyName(EnvelopeFields.OfSyslog.Msgid)]
    public string? Msgid { get; set; }
    [JsonPropertyName(EnvelopeFields.OfSyslog.StructuredData)]
    public Dictionary<string, Dictionary<string, string>>? StructuredData { get; set; }
    /// <summary><c>5424</c> or <c>3164</c>; absent when the line could not be read as either.</summary>
    [JsonPropertyName(EnvelopeFields.OfSyslog.Rfc)]
    public string? Rfc { get; set; }
}

public sealed class StreamInfo
{
    [JsonPropertyName(EnvelopeFields.OfStream.Id)]
    public string? Id { get; set; }
    [JsonPropertyName(EnvelopeFields.OfStream.Headers)]
    public Dictionary<string, string>? Headers { get; set; }
}

public sealed class MetricFields
{
    /// <summary>The sample's name as exposed (<c>http_request_duration_seconds_bucket</c>).</summary>
    [JsonPropertyName(EnvelopeFields.OfMetric.Name)]
    public string Name { get; set; } = "";

    /// <summary>The value; NaN and the infinities travel as the JSON strings <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>.</summary>
    [JsonPropertyName(EnvelopeFields.OfMetric.Value)]
    public double Value { get; set; }

    /// <summary>
    /// HTTP metrics: <c>counter</c> or <c>timer</c>. Scraped samples: the family's type — <c>counter</c>, <c>gauge</c>,
    /// <c>histogram</c>, <c>summary</c>, <c>untyped</c>, or OpenMetrics' <c>gaugehistogram</c>, <c>stateset</c>,
    /// <c>info</c>, <c>unknown</c>.
    /// </summary>
    [JsonPropertyName(EnvelopeFields.OfMetric.Type)]
    public string Type { get; set; } = "counter";

    /// <summary>Scraped samples: the family, when the sample's name adds a suffix to it (<c>http_request_duration_seconds</c> of <c>…_bucket</c>).</summary>
    [JsonPropertyName(EnvelopeFields.OfMetric.Family)]
    public string? Family { get; set; }

    /// <summary>Scraped samples: the family's unit (OpenMetrics <c># UNIT</c>).</summary>
    [JsonPropertyName(EnvelopeFields.OfMetric.Unit)]
    public string? Unit { get; set; }

    /// <summary>Scraped samples: the sample's labels, then the target's (<c>job</c>, <c>instance</c>, configured ones).</summary>
    [JsonPropertyName(EnvelopeFields.OfMetric.Labels)]
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>Scraped samples: the time the exposition gave the sample, when it gave one (else <c>received_at</c> is the scrape's time).</summary>
    [JsonPropertyName(EnvelopeFields.OfMetric.Timestamp)]
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>Scraped running totals (counters, histogram buckets, counts and sums): the increase since the same series' previous scrape by this edge.</summary>
    [JsonPropertyName(EnvelopeFields.OfMetric.Delta)]
    public double? Delta { get; set; }
}

/// <summary>The values of <see cref="TelemetryEvent.Kind"/>.</summary>
public static class EventKinds
{
    public const string Log = "log";
    public const string Metric = "metric";
    public const string Trace = "trace";
    public const string Event = "event";

    public static bool IsKnown(string? kind) => kind is Log or Metric or Trace or Event;
}

// Every property names itself from EnvelopeFields (no naming policy), so a property added without one shows up as
// a name the envelope does not have, which the readers' agreement test catches.
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(TelemetryEvent))]
internal sealed partial class EnvelopeJsonContext : JsonSerializerContext;
