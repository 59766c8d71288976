using System.Buffers;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;
using Pipeline.Core.Envelope;
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
            w.WriteStartObject(EnvelopeJson.Syslog);
            if (message.Facility >= 0) w.WriteNumber(EnvelopeJson.OfSyslog.Facility, message.Facility);
            if (message.Severity >= 0) w.WriteNumber(EnvelopeJson.OfSyslog.Severity, message.Severity);
            if (message.Version >= 0) w.WriteNumber(EnvelopeJson.OfSyslog.Version, message.Version);
            if (message.Timestamp is { } ts) WriteTimestamp(ts, message.TimestampExtraNanoseconds);
            WriteRange(EnvelopeJson.OfSyslog.Hostname, line, message.Hostname);
            WriteRange(EnvelopeJson.OfSyslog.AppName, line, message.AppName);
            WriteRange(EnvelopeJson.OfSyslog.Procid, line, message.ProcId);
            WriteRange(EnvelopeJson.OfSyslog.Msgid, line, message.MsgId);
            if (message.StructuredData.IsPresent)
            {
                w.WritePropertyName(EnvelopeJson.OfSyslog.StructuredData);
                StructuredData.WriteJson(message.StructuredData.Of(line), w);
            }
            w.WriteString(EnvelopeJson.OfSyslog.Rfc, message.Format == SyslogFormat.Rfc5424 ? Values.Rfc5424 : Values.Rfc3164);
            w.WriteEndObject();
        }
        WriteRange(EnvelopeJson.Message, line, message.Message);
        w.WriteString(EnvelopeJson.Raw, line);
        if (message.Truncated) w.WriteBoolean(EnvelopeJson.Truncated, true);
        if (!Utf8.IsValid(line)) w.WriteBase64String(EnvelopeJson.RawBase64, line);
        w.WriteString(EnvelopeJson.ParseStatus, message.Status switch
        {
            ParseStatus.Ok => Values.Ok,
            ParseStatus.Partial => Values.Partial,
            _ => Values.Failed,
        });
        if (message.Error is { } error) w.WriteString(EnvelopeJson.ParseError, error);
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
            w.WritePropertyName(EnvelopeJson.Message);
            w.WriteRawValue(JsonMarshal.GetRawUtf8Value(message), skipInputValidation: true);
        }
        if (metric.Name is not null)
        {
            w.WriteStartObject(EnvelopeJson.Metric);
            w.WriteString(EnvelopeJson.OfMetric.Name, metric.Name);
            WriteNumber(EnvelopeJson.OfMetric.Value, metric.Value);
            w.WriteString(EnvelopeJson.OfMetric.Type, metric.Type);
            w.WriteEndObject();
        }
        // Copied as it came (already validated by the parse), not re-serialized element by element.
        w.WritePropertyName(EnvelopeJson.Payload);
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
            w.WritePropertyName(EnvelopeJson.Message);
            w.WriteRawValue(message, skipInputValidation: true);
        }
        w.WritePropertyName(EnvelopeJson.Payload);
        w.WriteRawValue(payload, skipInputValidation: true);
        return End(header);
    }

    /// <summary>
    /// When an envelope made here was received, in Unix milliseconds, read back from its id (a ULID of the
    /// receive time, written first; for an id the sender minted, the sender's time of
    /// minting); 0 for bytes that do not start so. The publisher stamps each Kafka record with it, also for records read back from the spool, without carrying the time beside every event.
    /// </summary>
    public static long ReceivedAtMilliseconds(ReadOnlySpan<byte> envelope) =>
        envelope.StartsWith(IdPrefix) && Ulid.TryReadMilliseconds(envelope[IdPrefix.Length..], out var ms) ? ms : 0;

    /// <summary>How every envelope written here starts: <c>{"id":"</c>.</summary>
    private static readonly byte[] IdPrefix = System.Text.Encoding.UTF8.GetBytes($"{{\"{EnvelopeFields.Id}\":\"");

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
        w.WriteString(EnvelopeJson.Id, _id);
        w.WriteString(EnvelopeJson.ReceivedAt, header.ReceivedAt);
        w.WriteString(EnvelopeJson.Kind, header.Kind);
        w.WriteStartObject(EnvelopeJson.Source);
        w.WriteString(EnvelopeJson.OfSource.Transport, listener.TransportJson);
        if (origin.Peer is { } peer)
        {
            w.WriteString(EnvelopeJson.OfSource.Ip, origin.PeerAddressBytes);
            w.WriteNumber(EnvelopeJson.OfSource.Port, peer.Port);
        }
        w.WriteString(EnvelopeJson.OfSource.Edge, listener.EdgeJson);
        w.WriteEndObject();
        var tenant = origin.Stream?.Tenant ?? listener.Tenant;
        if (tenant is not null) w.WriteString(EnvelopeJson.Tenant, tenant);
        if (listener.TagsJson is { } tags)
        {
            w.WritePropertyName(EnvelopeJson.Tags);
            w.WriteRawValue(tags, skipInputValidation: true);
        }
        w.WriteNumber(EnvelopeJson.SampleRate, header.SampleRate);
    }

    private ReadOnlySpan<byte> End(scoped in EnvelopeHeader header)
    {
        var w = _json;
        if (header.Origin.Stream is { } stream)
        {
            w.WritePropertyName(EnvelopeJson.Stream);
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
            _json.WriteString(EnvelopeJson.OfSyslog.Timestamp, ts);
            return;
        }

        Span<byte> text = stackalloc byte[40];
        ts.TryFormat(text, out var used, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff", System.Globalization.CultureInfo.InvariantCulture);
        text[used++] = (byte)('0' + extraNanoseconds / 10);
        text[used++] = (byte)('0' + extraNanoseconds % 10);
        ts.TryFormat(text[used..], out var zone, "zzz", System.Globalization.CultureInfo.InvariantCulture);
        _json.WriteString(EnvelopeJson.OfSyslog.Timestamp, text[..(used + zone)]);
    }

    private void WriteRange(JsonEncodedText name, ReadOnlySpan<byte> line, TextRange range)
    {
        if (range.IsPresent) _json.WriteString(name, range.Of(line));
    }

    /// <summary>Values the writer spells (the field names are <see cref="EnvelopeJson"/>'s), encoded once.</summary>
    private static class Values
    {
        public static readonly JsonEncodedText Rfc5424 = JsonEncodedText.Encode("5424");
        public static readonly JsonEncodedText Rfc3164 = JsonEncodedText.Encode("3164");
        public static readonly JsonEncodedText Ok = JsonEncodedText.Encode("ok");
        public static readonly JsonEncodedText Partial = JsonEncodedText.Encode("partial");
        public static readonly JsonEncodedText Failed = JsonEncodedText.Encode("failed");
        public static readonly JsonEncodedText NaN = JsonEncodedText.Encode("NaN");
        public static readonly JsonEncodedText Infinity = JsonEncodedText.Encode("Infinity");
        public static readonly JsonEncodedText NegativeInfinity = JsonEncodedText.Encode("-Infinity");
    }
}

/// <summary>A metric event's name, value and type; <see cref="Name"/> is null for other events.</summary>
internal readonly record struct MetricValue(string? Name, double Value, string Type);
