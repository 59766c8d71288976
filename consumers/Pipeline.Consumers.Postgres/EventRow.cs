using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;
using Field = Pipeline.Core.Envelope.EnvelopeFields;
using Name = Pipeline.Core.Envelope.EnvelopeUtf8;

namespace Pipeline.Consumers.Postgres;

/// <summary>
/// One row of <c>events</c>, read from one record in a single pass of a <see cref="Utf8JsonReader"/> over the
/// record's bytes. Text columns are slices of those bytes (copied only when the JSON string holds escapes),
/// and the payload column is the record itself: nothing is decoded to UTF-16 and encoded back, and fields the
/// table does not keep are skipped, not materialised. The pass also validates the whole record as JSON.
/// </summary>
internal sealed class EventRow
{
    private static readonly ReadOnlyMemory<byte> DefaultKind = Encoding.UTF8.GetBytes(EventKinds.Log);
    private static readonly ReadOnlyMemory<byte> MetricKind = Encoding.UTF8.GetBytes(EventKinds.Metric);

    private EventRow(ConsumedRecord record) => Record = record;

    public ConsumedRecord Record { get; }
    public ReadOnlyMemory<byte> Id { get; private set; }
    public DateTime ReceivedAt { get; private set; }
    public DateTime? EventTime { get; private set; }
    public ReadOnlyMemory<byte> Kind { get; private set; } = DefaultKind;
    public ReadOnlyMemory<byte>? Host { get; private set; }
    public ReadOnlyMemory<byte>? App { get; private set; }
    public short? Facility { get; private set; }
    public short? Severity { get; private set; }
    public ReadOnlyMemory<byte>? Message { get; private set; }
    public IPAddress? SourceIp { get; private set; }
    public ReadOnlyMemory<byte>? Transport { get; private set; }
    public ReadOnlyMemory<byte>? Edge { get; private set; }
    public ReadOnlyMemory<byte>? Tenant { get; private set; }
    public int SampleRate { get; private set; } = 1;
    public ReadOnlyMemory<byte>? StreamId { get; private set; }
    /// <summary>The stream's <c>headers</c> object as it appears in the record (JSON), for the <c>streams</c> table.</summary>
    public ReadOnlyMemory<byte>? StreamHeaders { get; private set; }
    public ReadOnlyMemory<byte>? ParseStatus { get; private set; }
    /// <summary>The whole v1 envelope, as received.</summary>
    public ReadOnlyMemory<byte> Payload => Record.Value;

    /// <summary>The <c>metric</c> object, when the envelope has one.</summary>
    public MetricSample? Metric { get; private set; }

    /// <summary>A metric event: a row of <c>metrics</c>, not of <c>events</c>.</summary>
    public bool IsMetric => Metric is not null && Kind.Span.SequenceEqual(MetricKind.Span);

    public DateOnly Day => DateOnly.FromDateTime(ReceivedAt);

    /// <summary>Text of a UTF-8 column value (for logs, tests and the benchmark's other writers).</summary>
    public static string? Text(ReadOnlyMemory<byte>? utf8) => utf8 is { } v ? Encoding.UTF8.GetString(v.Span) : null;

    /// <summary>Reads a record; one that is not a v1 envelope (not JSON, no id or receive time, a field of the wrong type) is a poison record.</summary>
    public static EventRow From(ConsumedRecord record)
    {
        var row = new EventRow(record);
        try
        {
            row.Read();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new PoisonRecordException(record, "not a v1 envelope: " + ex.Message, ex);
        }
        return row;
    }

    private void Read()
    {
        var value = Record.Value;
        var reader = new Utf8JsonReader(value);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new FormatException("not a JSON object");
        var hasId = false;
        var hasReceivedAt = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Name.Id))
            {
                Id = RequiredString(ref reader, value, Field.Id);
                hasId = Id.Length > 0;
            }
            else if (reader.ValueTextEquals(Name.ReceivedAt))
            {
                ReceivedAt = Time(ref reader, Field.ReceivedAt) ?? throw new FormatException(Field.ReceivedAt + " is null");
                hasReceivedAt = true;
            }
            else if (reader.ValueTextEquals(Name.Kind)) Kind = RequiredString(ref reader, value, Field.Kind);
            else if (reader.ValueTextEquals(Name.Tenant)) Tenant = Utf8(ref reader, value, Field.Tenant);
            else if (reader.ValueTextEquals(Name.SampleRate)) SampleRate = Integer(ref reader, Field.SampleRate) ?? 1;
            else if (reader.ValueTextEquals(Name.Message)) Message = Utf8(ref reader, value, Field.Message);
            else if (reader.ValueTextEquals(Name.ParseStatus)) ParseStatus = Utf8(ref reader, value, Field.ParseStatus);
            else if (reader.ValueTextEquals(Name.Source)) ReadSource(ref reader, value);
            else if (reader.ValueTextEquals(Name.Syslog)) ReadSyslog(ref reader, value);
            else if (reader.ValueTextEquals(Name.Stream)) ReadStream(ref reader, value);
            else if (reader.ValueTextEquals(Name.Metric)) ReadMetric(ref reader, value);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject) throw new FormatException("not a JSON object");
        // Anything after the object other than white space makes the reader throw here.
        if (reader.Read()) throw new FormatException("more than one JSON value");
        if (!hasId) throw new FormatException("no " + Field.Id);
        if (!hasReceivedAt) throw new FormatException("no " + Field.ReceivedAt);
    }

    private void ReadSource(ref Utf8JsonReader reader, byte[] value)
    {
        if (!StartObject(ref reader, Field.Source)) return;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Name.OfSource.Transport)) Transport = Utf8(ref reader, value, Field.Source + "." + Field.OfSource.Transport);
            else if (reader.ValueTextEquals(Name.OfSource.Edge)) Edge = Utf8(ref reader, value, Field.Source + "." + Field.OfSource.Edge);
            else if (reader.ValueTextEquals(Name.OfSource.Ip)) SourceIp = Utf8(ref reader, value, Field.Source + "." + Field.OfSource.Ip) is { } ip && IPAddress.TryParse(ip.Span, out var address) ? address : null;
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private void ReadSyslog(ref Utf8JsonReader reader, byte[] value)
    {
        if (!StartObject(ref reader, Field.Syslog)) return;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Name.OfSyslog.Hostname)) Host = Utf8(ref reader, value, Field.Syslog + "." + Field.OfSyslog.Hostname);
            else if (reader.ValueTextEquals(Name.OfSyslog.AppName)) App = Utf8(ref reader, value, Field.Syslog + "." + Field.OfSyslog.AppName);
            else if (reader.ValueTextEquals(Name.OfSyslog.Facility)) Facility = SmallInteger(ref reader, Field.Syslog + "." + Field.OfSyslog.Facility);
            else if (reader.ValueTextEquals(Name.OfSyslog.Severity)) Severity = SmallInteger(ref reader, Field.Syslog + "." + Field.OfSyslog.Severity);
            else if (reader.ValueTextEquals(Name.OfSyslog.Timestamp)) EventTime = Time(ref reader, Field.Syslog + "." + Field.OfSyslog.Timestamp);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private void ReadStream(ref Utf8JsonReader reader, byte[] value)
    {
        if (!StartObject(ref reader, Field.Stream)) return;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Name.OfStream.Id)) StreamId = Utf8(ref reader, value, Field.Stream + "." + Field.OfStream.Id);
            else if (reader.ValueTextEquals(Name.OfStream.Headers))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartObject) throw new FormatException(Field.Stream + "." + Field.OfStream.Headers + " must be an object");
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                StreamHeaders = value.AsMemory(start, (int)reader.BytesConsumed - start);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private void ReadMetric(ref Utf8JsonReader reader, byte[] value)
    {
        if (!StartObject(ref reader, Field.Metric)) return;
        ReadOnlyMemory<byte>? name = null, type = null, labels = null;
        double? number = null;
        DateTime? time = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Name.OfMetric.Name)) name = Utf8(ref reader, value, Field.Metric + "." + Field.OfMetric.Name);
            else if (reader.ValueTextEquals(Name.OfMetric.Type)) type = Utf8(ref reader, value, Field.Metric + "." + Field.OfMetric.Type);
            else if (reader.ValueTextEquals(Name.OfMetric.Value)) number = Number(ref reader, Field.Metric + "." + Field.OfMetric.Value);
            else if (reader.ValueTextEquals(Name.OfMetric.Timestamp)) time = Time(ref reader, Field.Metric + "." + Field.OfMetric.Timestamp);
            else if (reader.ValueTextEquals(Name.OfMetric.Labels))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartObject) throw new FormatException(Field.Metric + "." + Field.OfMetric.Labels + " must be an object");
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                labels = value.AsMemory(start, (int)reader.BytesConsumed - start);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (name is not { Length: > 0 } || number is null) throw new FormatException("a metric needs a name and a value");
        Metric = new MetricSample(name.Value, type ?? DefaultMetricType, labels, number.Value, time);
    }

    private static readonly ReadOnlyMemory<byte> DefaultMetricType = "untyped"u8.ToArray();

    /// <summary>A number, or one of the strings JSON carries NaN and the infinities as.</summary>
    private static double? Number(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number)) return number;
        if (reader.TokenType == JsonTokenType.String)
        {
            if (reader.ValueTextEquals("NaN"u8)) return double.NaN;
            if (reader.ValueTextEquals("Infinity"u8)) return double.PositiveInfinity;
            if (reader.ValueTextEquals("-Infinity"u8)) return double.NegativeInfinity;
        }
        throw new FormatException(name + " must be a number");
    }

    /// <summary>Moves to a property's value: true at the start of an object, false for null.</summary>
    private static bool StartObject(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.StartObject => true,
            JsonTokenType.Null => false,
            _ => throw new FormatException(name + " must be an object"),
        };
    }

    /// <summary>A string property's value as UTF-8: a slice of the record, or unescaped into a copy when it holds escapes.</summary>
    private static ReadOnlyMemory<byte>? Utf8(ref Utf8JsonReader reader, byte[] value, string name)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.String) throw new FormatException(name + " must be a string");
        if (!reader.ValueIsEscaped) return value.AsMemory((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
        var unescaped = new byte[reader.ValueSpan.Length];
        return unescaped.AsMemory(0, reader.CopyString(unescaped));
    }

    private static ReadOnlyMemory<byte> RequiredString(ref Utf8JsonReader reader, byte[] value, string name) =>
        Utf8(ref reader, value, name) ?? throw new FormatException(name + " is null");

    private static DateTime? Time(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out var time)) throw new FormatException(name + " must be an RFC 3339 time");
        return time.UtcDateTime;
    }

    private static int? Integer(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var number)) throw new FormatException(name + " must be a 32-bit integer");
        return number;
    }

    private static short? SmallInteger(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt16(out var number)) throw new FormatException(name + " must be a small integer");
        return number;
    }
}

/// <summary>A row of <c>metrics</c>: the <c>metric</c> object of one envelope (text columns as UTF-8 slices of the record).</summary>
internal sealed record MetricSample(ReadOnlyMemory<byte> Name, ReadOnlyMemory<byte> Type, ReadOnlyMemory<byte>? Labels, double Value, DateTime? Time);
