using Pipeline.Testing;
using System.Buffers;
using System.Text.Json;
using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Core.Envelope;
using Pipeline.Core.Ids;

namespace Pipeline.UnitTests.Support;

/// <summary>Envelopes as the edge writes them, and aggregators set up for tests.</summary>
internal static class TopKTestData
{
    public static readonly DateTimeOffset Base = new(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A v1 syslog envelope through the real codec.</summary>
    public static byte[] Syslog(DateTimeOffset receivedAt, string? host = "web-1", string? app = "sshd", int? severity = 6,
        string? message = "Accepted publickey for bob from 10.0.0.1 port 22 ssh2", int sampleRate = 1, string? tenant = null, string? senderIp = "192.0.2.10") =>
        EnvelopeCodec.Encode(new TelemetryEvent
        {
            Id = Ulid.NewString(receivedAt),
            ReceivedAt = receivedAt,
            Kind = EventKinds.Log,
            Source = new EventSource { Transport = "udp", Ip = senderIp, Port = 514, Edge = "edge-1" },
            Tenant = tenant,
            SampleRate = sampleRate,
            Syslog = new SyslogFields { Facility = 4, Severity = severity, Hostname = host, AppName = app, Rfc = "5424" },
            Message = message,
            Raw = $"<38>1 {receivedAt:O} {host} {app} - - - {message}",
            ParseStatus = "ok",
        });

    /// <summary>A v1 HTTP event envelope with a JSON payload.</summary>
    public static byte[] HttpEvent(DateTimeOffset receivedAt, string payloadJson, string? tenant = "acme", int sampleRate = 1) =>
        EnvelopeCodec.Encode(new TelemetryEvent
        {
            Id = Ulid.NewString(receivedAt),
            ReceivedAt = receivedAt,
            Kind = EventKinds.Event,
            Source = new EventSource { Transport = "http", Ip = "198.51.100.7", Port = 40000, Edge = "edge-1" },
            Tenant = tenant,
            SampleRate = sampleRate,
            Payload = JsonDocument.Parse(payloadJson).RootElement.Clone(),
        });

    /// <summary>A v1 envelope of one scraped sample, as the edge's scrape source writes it.</summary>
    public static byte[] Metric(DateTimeOffset receivedAt, string name, Dictionary<string, string> labels, double value, double? delta, int sampleRate = 1) =>
        EnvelopeCodec.Encode(new TelemetryEvent
        {
            Id = Ulid.NewString(receivedAt),
            ReceivedAt = receivedAt,
            Kind = EventKinds.Metric,
            Source = new EventSource { Transport = "scrape", Ip = "127.0.0.1", Port = 9100, Edge = "edge-1" },
            SampleRate = sampleRate,
            Metric = new MetricFields { Name = name, Type = "counter", Labels = labels, Value = value, Delta = delta },
        });

    public static TopKAggregator Aggregator(string dimensions = "host,app,severity,source_ip,template,tenant", int capacity = 1000,
        TimeSpan? lateness = null, bool rollup = true) =>
        new(new AggregatorSettings(
            dimensions.Split(',').Select(Dimension.Parse).ToList(),
            rollup ? [new Granularity(TimeSpan.FromMinutes(1)), new Granularity(TimeSpan.FromHours(1))] : [new Granularity(TimeSpan.FromMinutes(1))],
            capacity, lateness ?? TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), 256));

    public static readonly Granularity Minute = new(TimeSpan.FromMinutes(1));
    public static readonly Granularity Hour = new(TimeSpan.FromHours(1));
}

/// <summary>
/// A small envelope writer for streams of a million events: the fields the aggregator reads plus a raw
/// line, written with one reused <see cref="Utf8JsonWriter"/> so generating the stream does not dominate.
/// </summary>
internal sealed class FastEnvelopes
{
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _json;
    private long _id;

    public FastEnvelopes() => _json = new Utf8JsonWriter(_buffer);

    public ReadOnlySpan<byte> Write(DateTimeOffset receivedAt, string host, string message, int sampleRate = 1)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        var w = _json;
        w.WriteStartObject();
        w.WriteString("id"u8, (++_id).ToString("D26", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteString("received_at"u8, receivedAt);
        w.WriteString("kind"u8, "log"u8);
        w.WriteStartObject("source"u8);
        w.WriteString("transport"u8, "udp"u8);
        w.WriteString("ip"u8, "192.0.2.10"u8);
        w.WriteEndObject();
        w.WriteNumber("sample_rate"u8, sampleRate);
        w.WriteStartObject("syslog"u8);
        w.WriteNumber("severity"u8, 6);
        w.WriteString("hostname"u8, host);
        w.WriteString("app_name"u8, "app"u8);
        w.WriteEndObject();
        w.WriteString("message"u8, message);
        w.WriteEndObject();
        w.Flush();
        return _buffer.WrittenSpan;
    }
}
