using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Pipeline.Core.Envelope;

/// <summary>
/// The v1 envelope's JSON property names (see docs/envelope.md): the one place they are spelled. The codec
/// (<see cref="TelemetryEvent"/>'s attributes), the edge's writer and every reader that walks the JSON itself take
/// them from here, so a writer and a reader cannot drift apart. Hot paths use <see cref="EnvelopeJson"/>, the same
/// names encoded once.
/// </summary>
public static class EnvelopeFields
{
    public const string Id = "id";
    public const string ReceivedAt = "received_at";
    public const string Kind = "kind";
    public const string Source = "source";
    public const string Tenant = "tenant";
    public const string Tags = "tags";
    public const string SampleRate = "sample_rate";
    public const string Syslog = "syslog";
    public const string Message = "message";
    public const string Payload = "payload";
    public const string Stream = "stream";
    public const string Raw = "raw";
    public const string RawBase64 = "raw_b64";
    public const string Truncated = "truncated";
    public const string ParseStatus = "parse_status";
    public const string ParseError = "parse_error";
    public const string Metric = "metric";

    /// <summary>The fields of <c>source</c>.</summary>
    public static class OfSource
    {
        public const string Transport = "transport";
        public const string Ip = "ip";
        public const string Port = "port";
        public const string Edge = "edge";
    }

    /// <summary>The fields of <c>syslog</c>.</summary>
    public static class OfSyslog
    {
        public const string Facility = "facility";
        public const string Severity = "severity";
        public const string Version = "version";
        public const string Timestamp = "timestamp";
        public const string Hostname = "hostname";
        public const string AppName = "app_name";
        public const string Procid = "procid";
        public const string Msgid = "msgid";
        public const string StructuredData = "structured_data";
        public const string Rfc = "rfc";
    }

    /// <summary>The fields of <c>stream</c>.</summary>
    public static class OfStream
    {
        public const string Id = "id";
        public const string Headers = "headers";
    }

    /// <summary>The fields of <c>metric</c>.</summary>
    public static class OfMetric
    {
        public const string Name = "name";
        public const string Value = "value";
        public const string Type = "type";
        public const string Family = "family";
        public const string Unit = "unit";
        public const string Labels = "labels";
        public const string Timestamp = "timestamp";
        public const string Delta = "delta";
    }
}

/// <summary>
/// <see cref="EnvelopeFields"/> encoded once as UTF-8 JSON property names: for a <see cref="Utf8JsonWriter"/>
/// (no escaping check per write) and for a <see cref="Utf8JsonReader"/> through <see cref="Is"/> (a byte
/// comparison, as with a <c>"…"u8</c> literal).
/// </summary>
public static class EnvelopeJson
{
    public static readonly JsonEncodedText Id = JsonEncodedText.Encode(EnvelopeFields.Id);
    public static readonly JsonEncodedText ReceivedAt = JsonEncodedText.Encode(EnvelopeFields.ReceivedAt);
    public static readonly JsonEncodedText Kind = JsonEncodedText.Encode(EnvelopeFields.Kind);
    public static readonly JsonEncodedText Source = JsonEncodedText.Encode(EnvelopeFields.Source);
    public static readonly JsonEncodedText Tenant = JsonEncodedText.Encode(EnvelopeFields.Tenant);
    public static readonly JsonEncodedText Tags = JsonEncodedText.Encode(EnvelopeFields.Tags);
    public static readonly JsonEncodedText SampleRate = JsonEncodedText.Encode(EnvelopeFields.SampleRate);
    public static readonly JsonEncodedText Syslog = JsonEncodedText.Encode(EnvelopeFields.Syslog);
    public static readonly JsonEncodedText Message = JsonEncodedText.Encode(EnvelopeFields.Message);
    public static readonly JsonEncodedText Payload = JsonEncodedText.Encode(EnvelopeFields.Payload);
    public static readonly JsonEncodedText Stream = JsonEncodedText.Encode(EnvelopeFields.Stream);
    public static readonly JsonEncodedText Raw = JsonEncodedText.Encode(EnvelopeFields.Raw);
    public static readonly JsonEncodedText RawBase64 = JsonEncodedText.Encode(EnvelopeFields.RawBase64);
    public static readonly JsonEncodedText Truncated = JsonEncodedText.Encode(EnvelopeFields.Truncated);
    public static readonly JsonEncodedText ParseStatus = JsonEncodedText.Encode(EnvelopeFields.ParseStatus);
    public static readonly JsonEncodedText ParseError = JsonEncodedText.Encode(EnvelopeFields.ParseError);
    public static readonly JsonEncodedText Metric = JsonEncodedText.Encode(EnvelopeFields.Metric);

    /// <summary>Whether the reader's current token (a property name, or a string) is <paramref name="name"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Is(ref this Utf8JsonReader reader, JsonEncodedText name) => reader.ValueTextEquals(name.EncodedUtf8Bytes);

    /// <summary>The fields of <c>source</c>.</summary>
    public static class OfSource
    {
        public static readonly JsonEncodedText Transport = JsonEncodedText.Encode(EnvelopeFields.OfSource.Transport);
        public static readonly JsonEncodedText Ip = JsonEncodedText.Encode(EnvelopeFields.OfSource.Ip);
        public static readonly JsonEncodedText Port = JsonEncodedText.Encode(EnvelopeFields.OfSource.Port);
        public static readonly JsonEncodedText Edge = JsonEncodedText.Encode(EnvelopeFields.OfSource.Edge);
    }

    /// <summary>The fields of <c>syslog</c>.</summary>
    public static class OfSyslog
    {
        public static readonly JsonEncodedText Facility = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Facility);
        public static readonly JsonEncodedText Severity = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Severity);
        public static readonly JsonEncodedText Version = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Version);
        public static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Timestamp);
        public static readonly JsonEncodedText Hostname = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Hostname);
        public static readonly JsonEncodedText AppName = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.AppName);
        public static readonly JsonEncodedText Procid = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Procid);
        public static readonly JsonEncodedText Msgid = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Msgid);
        public static readonly JsonEncodedText StructuredData = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.StructuredData);
        public static readonly JsonEncodedText Rfc = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Rfc);
    }

    /// <summary>The fields of <c>stream</c>.</summary>
    public static class OfStream
    {
        public static readonly JsonEncodedText Id = JsonEncodedText.Encode(EnvelopeFields.OfStream.Id);
        public static readonly JsonEncodedText Headers = JsonEncodedText.Encode(EnvelopeFields.OfStream.Headers);
    }

    /// <summary>The fields of <c>metric</c>.</summary>
    public static class OfMetric
    {
        public static readonly JsonEncodedText Name = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Name);
        public static readonly JsonEncodedText Value = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Value);
        public static readonly JsonEncodedText Type = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Type);
        public static readonly JsonEncodedText Family = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Family);
        public static readonly JsonEncodedText Unit = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Unit);
        public static readonly JsonEncodedText Labels = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Labels);
        public static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Timestamp);
        public static readonly JsonEncodedText Delta = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Delta);
    }
}
