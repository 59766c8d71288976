using System.Buffers;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;
using Pipeline.Core.Ids;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.Edge.Markup;

/// <summary>What every envelope carries besides its content.</summary>
internal readonly record struct EnvelopeHeader(DateTimeOffset ReceivedAt, string Kind, IngestOrigin Origin, int SampleRate);

/// <summary>
/// Writes v1 envelopes (see ARCHITECTURE.md) straight from the parsed line's spans into a reused buffer:
/// the only per-event allocation is the final copy handed to Kafka. One writer per thread; the span it
/// returns is valid until the next write on that thread.
/// </summary>
internal sealed partial class EnvelopeWriter
{
    [ThreadStatic] private static EnvelopeWriter? t_current;

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _json;
    private readonly byte[] _id = new byte[Ulid.Length];

    private EnvelopeWriter() =>
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>The writer of the calling thread.</summary>
    public static EnvelopeWriter ForCurrentThread => t_current ??= new EnvelopeWriter();

    /// <summary>The id of the envelope last written, as 26 ASCII bytes.</summary>
    public ReadOnlySpan<byte> LastId => _id;

    /// <summary>An envelope for one syslog line.</summary>
    public ReadOnlySpan<byte> WriteSyslog(scoped in EnvelopeHeader header, scoped ReadOnlySpan<byte> line, scoped in SyslogMessage message)
    {
        Begin(header, default);
        var w = _json;
        if (message.Format != SyslogFormat.Unknown)
        {
            w.WriteStartObject(Names.Syslog);
            if (message.Facility >= 0) w.WriteNumber(Names.Facility, message.Facility);
            if (message.Severity >= 0) w.WriteNumber(Names.Severity, message.Severity);
            if (message.Version >= 0) w.WriteNumber(Names.Version, message.Version);
            if (message.Timestamp is { } ts) WriteTimestamp(ts, message.TimestampExtraNanoseconds);
            WriteRange(Names.Hostname, line, message.Hostname);
            WriteRange(Names.AppName, line, message.AppName);
            WriteRange(Names.Procid, line, message.ProcId);
            WriteRange(Names.Msgid, line, message.MsgId);
            if (message.StructuredData.IsPresent)
            {
                w.WritePropertyName(Names.StructuredData);
                StructuredData.WriteJson(message.StructuredData.Of(line), w);
            }
            w.WriteString(Names.Rfc, message.Format == SyslogFormat.Rfc5424 ? Names.Rfc5424 : Names.Rfc3164);
            w.WriteEndObject();
        }
        WriteRange(Names.Message, line, message.Message);
        w.WriteString(Names.Raw, line);
        if (message.Truncated) w.WriteBoolean(Names.Truncated, true);
        if (!Utf8.IsValid(line)) w.WriteBase64String(Names.RawBase64, line);
        w.WriteString(Names.ParseStatus, message.Status switch
        {
            ParseStatus.Ok => Names.Ok,
            ParseStatus.Partial => Names.Partial,
            _ => Names.Failed,
        });
        if (message.Error is { } error) w.WriteString(Names.ParseError, error);
        return End(header);
    }

    /// <summary>An envelope for one JSON event (HTTP, WebSocket); <paramref name="payload"/> is copied as it is.</summary>
    /// <remarks>
    /// <paramref name="message"/>: a JSON string of the payload (copied with its escapes as they came), or undefined for none.
    /// <paramref name="senderId"/>: the id the sender minted (see <see cref="Begin"/>), or empty.
    /// </remarks>
    public ReadOnlySpan<byte> WriteJsonEvent(scoped in EnvelopeHeader header, JsonElement payload, JsonElement message, scoped in MetricValue metric,
        scoped ReadOnlySpan<byte> senderId = default)
    {
        Begin(header, senderId);
        var w = _json;
        if (message.ValueKind == JsonValueKind.String)
        {
            w.WritePropertyName(Names.Message);
            w.WriteRawValue(JsonMarshal.GetRawUtf8Value(message), skipInputValidation: true);
        }
        if (metric.Name is not null)
        {
            w.WriteStartObject(Names.Metric);
            w.WriteString(Names.Name, metric.Name);
            WriteNumber(Names.Value, metric.Value);
            w.WriteString(Names.Type, metric.Type);
            w.WriteEndObject();
        }
        // Copied as it came (already validated by the parse), not re-serialized element by element.
        w.WritePropertyName(Names.Payload);
        w.WriteRawValue(JsonMarshal.GetRawUtf8Value(payload), skipInputValidation: true);
        return End(header);
    }

    /// <summary>
    /// An envelope whose payload was rendered to JSON by its decoder (an OTLP log record): <paramref name="message"/>
    /// is a JSON string (quotes included) or empty for none, <paramref name="payload"/> a JSON object; both are copied as they are.
    /// </summary>
    public ReadOnlySpan<byte> WriteRendered(scoped in EnvelopeHeader header, scoped ReadOnlySpan<byte> message, scoped ReadOnlySpan<byte> payload,
        scoped ReadOnlySpan<byte> senderId)
    {
        Begin(header, senderId);
        var w = _json;
        if (!message.IsEmpty)
        {
            w.WritePropertyName(Names.Message);
            w.WriteRawValue(message, skipInputValidation: true);
        }
        w.WritePropertyName(Names.Payload);
        w.WriteRawValue(payload, skipInputValidation: true);
        return End(header);
    }

    /// <summary>
    /// When an envelope made here was received, in Unix milliseconds, read back from its id (a ULID of the
    /// receive time, written first; for an id the sender minted, the sender's time of
    /// minting); 0 for bytes that do not start so. The publisher stamps each Kafka record with it, also for records read back from the spool, without carrying the time beside every event.
    /// </summary>
    public static long ReceivedAtMilliseconds(ReadOnlySpan<byte> envelope) =>
        envelope.StartsWith("{\"id\":\""u8) && Ulid.TryReadMilliseconds(envelope[7..], out var ms) ? ms : 0;

    /// <remarks>
    /// The id is the sender's own when it sent a valid ULID (<paramref name="senderId"/>): an event it sends again
    /// after a lost reply keeps its id, so sinks that are unique by id keep one copy. Otherwise the edge mints one.
    /// </remarks>
    private void Begin(in EnvelopeHeader header, scoped ReadOnlySpan<byte> senderId)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        if (senderId.IsEmpty || !Ulid.TryNormalize(senderId, _id)) Ulid.Write(header.ReceivedAt, _id);
        var w = _json;
        var origin = header.Origin;
        var listener = origin.Listener;
        w.WriteStartObject();
        w.WriteString(Names.Id, _id);
        w.WriteString(Names.ReceivedAt, header.ReceivedAt);
        w.WriteString(Names.Kind, header.Kind);
        w.WriteStartObject(Names.Source);
        w.WriteString(Names.Transport, listener.TransportJson);
        if (origin.Peer is { } peer)
        {
            w.WriteString(Names.Ip, origin.PeerAddressBytes);
            w.WriteNumber(Names.Port, peer.Port);
        }
        w.WriteString(Names.Edge, listener.EdgeJson);
        w.WriteEndObject();
        var tenant = origin.Stream?.Tenant ?? listener.Tenant;
        if (tenant is not null) w.WriteString(Names.Tenant, tenant);
        if (listener.TagsJson is { } tags)
        {
            w.WritePropertyName(Names.Tags);
            w.WriteRawValue(tags, skipInputValidation: true);
        }
        w.WriteNumber(Names.SampleRate, header.SampleRate);
    }

    private ReadOnlySpan<byte> End(scoped in EnvelopeHeader header)
    {
        var w = _json;
        if (header.Origin.Stream is { } stream)
        {
            w.WritePropertyName(Names.Stream);
            w.WriteRawValue(stream.Json, skipInputValidation: true);
        }
        w.WriteEndObject();
        w.Flush();
        return _buffer.WrittenSpan;
    }

    /// <summary>RFC 3339, with 9 fraction digits when the line gave nanoseconds beyond DateTimeOffset's 100 ns.</summary>
    private void WriteTimestamp(DateTimeOffset ts, int extraNanoseconds)
    {
        if (extraNanoseconds == 0)
        {
            _json.WriteString(Names.Timestamp, ts);
            return;
        }

        Span<byte> text = stackalloc byte[40];
        ts.TryFormat(text, out var used, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff", System.Globalization.CultureInfo.InvariantCulture);
        text[used++] = (byte)('0' + extraNanoseconds / 10);
        text[used++] = (byte)('0' + extraNanoseconds % 10);
        ts.TryFormat(text[used..], out var zone, "zzz", System.Globalization.CultureInfo.InvariantCulture);
        _json.WriteString(Names.Timestamp, text[..(used + zone)]);
    }

    private void WriteRange(JsonEncodedText name, ReadOnlySpan<byte> line, TextRange range)
    {
        if (range.IsPresent) _json.WriteString(name, range.Of(line));
    }

    /// <summary>Property names, encoded once.</summary>
    private static class Names
    {
        public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
        public static readonly JsonEncodedText ReceivedAt = JsonEncodedText.Encode("received_at");
        public static readonly JsonEncodedText Kind = JsonEncodedText.Encode("kind");
        public static readonly JsonEncodedText Source = JsonEncodedText.Encode("source");
        public static readonly JsonEncodedText Transport = JsonEncodedText.Encode("transport");
        public static readonly JsonEncodedText Ip = JsonEncodedText.Encode("ip");
        public static readonly JsonEncodedText Port = JsonEncodedText.Encode("port");
        public static readonly JsonEncodedText Edge = JsonEncodedText.Encode("edge");
        public static readonly JsonEncodedText Tenant = JsonEncodedText.Encode("tenant");
        public static readonly JsonEncodedText Tags = JsonEncodedText.Encode("tags");
        public static readonly JsonEncodedText SampleRate = JsonEncodedText.Encode("sample_rate");
        public static readonly JsonEncodedText Syslog = JsonEncodedText.Encode("syslog");
        public static readonly JsonEncodedText Facility = JsonEncodedText.Encode("facility");
        public static readonly JsonEncodedText Severity = JsonEncodedText.Encode("severity");
        public static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
        public static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("timestamp");
        public static readonly JsonEncodedText Hostname = JsonEncodedText.Encode("hostname");
        public static readonly JsonEncodedText AppName = JsonEncodedText.Encode("app_name");
        public static readonly JsonEncodedText Procid = JsonEncodedText.Encode("procid");
        public static readonly JsonEncodedText Msgid = JsonEncodedText.Encode("msgid");
        public static readonly JsonEncodedText StructuredData = JsonEncodedText.Encode("structured_data");
        public static readonly JsonEncodedText Rfc = JsonEncodedText.Encode("rfc");
        public static readonly JsonEncodedText Rfc5424 = JsonEncodedText.Encode("5424");
        public static readonly JsonEncodedText Rfc3164 = JsonEncodedText.Encode("3164");
        public static readonly JsonEncodedText Message = JsonEncodedText.Encode("message");
        public static readonly JsonEncodedText Raw = JsonEncodedText.Encode("raw");
        public static readonly JsonEncodedText RawBase64 = JsonEncodedText.Encode("raw_b64");
        public static readonly JsonEncodedText Truncated = JsonEncodedText.Encode("truncated");
        public static readonly JsonEncodedText ParseStatus = JsonEncodedText.Encode("parse_status");
        public static readonly JsonEncodedText ParseError = JsonEncodedText.Encode("parse_error");
        public static readonly JsonEncodedText Ok = JsonEncodedText.Encode("ok");
        public static readonly JsonEncodedText Partial = JsonEncodedText.Encode("partial");
        public static readonly JsonEncodedText Failed = JsonEncodedText.Encode("failed");
        public static readonly JsonEncodedText Stream = JsonEncodedText.Encode("stream");
        public static readonly JsonEncodedText Payload = JsonEncodedText.Encode("payload");
        public static readonly JsonEncodedText Metric = JsonEncodedText.Encode("metric");
        public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
        public static readonly JsonEncodedText Value = JsonEncodedText.Encode("value");
        public static readonly JsonEncodedText Type = JsonEncodedText.Encode("type");
        public static readonly JsonEncodedText Family = JsonEncodedText.Encode("family");
        public static readonly JsonEncodedText Unit = JsonEncodedText.Encode("unit");
        public static readonly JsonEncodedText Labels = JsonEncodedText.Encode("labels");
        public static readonly JsonEncodedText Delta = JsonEncodedText.Encode("delta");
        public static readonly JsonEncodedText NaN = JsonEncodedText.Encode("NaN");
        public static readonly JsonEncodedText Infinity = JsonEncodedText.Encode("Infinity");
        public static readonly JsonEncodedText NegativeInfinity = JsonEncodedText.Encode("-Infinity");
    }
}

/// <summary>A metric event's name, value and type; <see cref="Name"/> is null for other events.</summary>
internal readonly record struct MetricValue(string? Name, double Value, string Type);
