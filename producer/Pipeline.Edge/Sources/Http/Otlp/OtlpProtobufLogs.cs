using System.Text.Json;
using Google.Protobuf;
using static Pipeline.Edge.Sources.Http.Otlp.OtlpLogBatch;
using static Pipeline.Edge.Sources.Http.Otlp.OtlpProtobufValues;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// Reads an <c>ExportLogsServiceRequest</c> in binary protobuf (<c>application/x-protobuf</c>) into an
/// <see cref="OtlpLogBatch"/>, straight from the request's bytes: strings and bytes are slices of the body until
/// they are written as JSON. Malformed protobuf throws <see cref="OtlpFormatException"/>; a record whose content
/// cannot be kept (a string that is not UTF-8, values nested too deep) is rejected alone.
/// </summary>
internal static class OtlpProtobufLogs
{
    private const WireFormat.WireType Bytes = WireFormat.WireType.LengthDelimited;

    public static void Read(ReadOnlySpan<byte> request, OtlpLogBatch batch)
    {
        var reader = new ProtoReader(request);
        while (reader.Next(out var field, out var type))
        {
            if (field != OtlpWire.Request.ResourceLogs)
            {
                reader.Skip(type);
                continue;
            }
            reader.Require(type, Bytes, field);
            ReadResourceLogs(reader.ReadLengthDelimited(), batch);
        }
    }

    private static void ReadResourceLogs(ReadOnlySpan<byte> message, OtlpLogBatch batch)
    {
        // The resource first, wherever it is in the message: every record's envelope carries it.
        Header(message, OtlpWire.ResourceLogs.Resource, OtlpWire.ResourceLogs.ScopeLogs, OtlpWire.ResourceLogs.SchemaUrl, out var resource, out var schemaUrl);
        string? unusable = null;
        try
        {
            WriteResource(resource, schemaUrl, batch);
        }
        catch (OtlpRecordException ex)
        {
            // Every record carries its resource: without it, none of them can be kept.
            unusable = "their resource: " + ex.Message;
        }

        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var type))
        {
            if (field != OtlpWire.ResourceLogs.ScopeLogs) reader.Skip(type);
            else if (unusable is null) ReadScopeLogs(reader.ReadLengthDelimited(), batch);
            else batch.RejectRecords(CountRecords(reader.ReadLengthDelimited()), unusable);
        }
    }

    /// <summary>
    /// A ResourceLogs or ScopeLogs (the same shape: what its items share, the items, a schema URL): the shared part and
    /// the schema URL (the last of each on the wire), and every one of the three checked to be length-delimited.
    /// </summary>
    private static void Header(ReadOnlySpan<byte> message, int shared, int items, int schemaUrl,
        out ReadOnlySpan<byte> sharedPart, out ReadOnlySpan<byte> schemaUrlPart)
    {
        sharedPart = schemaUrlPart = default;
        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var type))
        {
            if (field != shared && field != items && field != schemaUrl)
            {
                reader.Skip(type);
                continue;
            }
            reader.Require(type, Bytes, field);
            var content = reader.ReadLengthDelimited();
            if (field == shared) sharedPart = content;
            else if (field == schemaUrl) schemaUrlPart = content;
        }
    }

    private static int CountRecords(ReadOnlySpan<byte> scopeLogs)
    {
        var count = 0;
        var reader = new ProtoReader(scopeLogs);
        while (reader.Next(out var field, out var type))
        {
            if (field == OtlpWire.ScopeLogs.LogRecords) count++;
            reader.Skip(type);
        }
        return count;
    }

    private static void WriteResource(ReadOnlySpan<byte> resource, ReadOnlySpan<byte> schemaUrl, OtlpLogBatch batch)
    {
        var w = batch.BeginResource();
        ulong dropped = 0;
        var reader = new ProtoReader(resource);
        while (reader.Next(out var field, out var type))
        {
            if (field == OtlpWire.Resource.DroppedAttributesCount)
            {
                reader.Require(type, WireFormat.WireType.Varint, field);
                dropped = reader.ReadVarint();
            }
            else reader.Skip(type);
        }
        WriteAttributes(resource, OtlpWire.Resource.Attributes, w, batch, Facts.Resource);
        if (dropped > 0) w.WriteNumber(Names.DroppedAttributesCount, dropped);
        if (!schemaUrl.IsEmpty) w.WriteString(Names.SchemaUrl, Utf8(schemaUrl, "schema_url"));
        batch.EndResource();
    }

    private static void ReadScopeLogs(ReadOnlySpan<byte> message, OtlpLogBatch batch)
    {
        Header(message, OtlpWire.ScopeLogs.Scope, OtlpWire.ScopeLogs.LogRecords, OtlpWire.ScopeLogs.SchemaUrl, out var scope, out var schemaUrl);
        try
        {
            WriteScope(scope, schemaUrl, batch);
        }
        catch (OtlpRecordException ex)
        {
            batch.RejectRecords(CountRecords(message), "their scope: " + ex.Message);
            return;
        }

        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var type))
        {
            if (field != OtlpWire.ScopeLogs.LogRecords)
            {
                reader.Skip(type);
                continue;
            }
            var record = reader.ReadLengthDelimited();
            try
            {
                WriteRecord(record, batch);
            }
            catch (OtlpRecordException ex)
            {
                batch.RejectRecord(ex.Message);
            }
        }
    }

    private static void WriteScope(ReadOnlySpan<byte> scope, ReadOnlySpan<byte> schemaUrl, OtlpLogBatch batch)
    {
        var w = batch.BeginScope();
        ReadOnlySpan<byte> name = default, version = default;
        ulong dropped = 0;
        var reader = new ProtoReader(scope);
        while (reader.Next(out var field, out var type))
        {
            switch (field)
            {
                case OtlpWire.Scope.Name:
                    reader.Require(type, Bytes, field);
                    name = reader.ReadLengthDelimited();
                    break;
                case OtlpWire.Scope.Version:
                    reader.Require(type, Bytes, field);
                    version = reader.ReadLengthDelimited();
                    break;
                case OtlpWire.Scope.DroppedAttributesCount:
                    reader.Require(type, WireFormat.WireType.Varint, field);
                    dropped = reader.ReadVarint();
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }
        if (!name.IsEmpty) w.WriteString(Names.Name, Utf8(name, "scope name"));
        if (!version.IsEmpty) w.WriteString(Names.Version, Utf8(version, "scope version"));
        WriteAttributes(scope, OtlpWire.Scope.Attributes, w, batch, Facts.None);
        if (dropped > 0) w.WriteNumber(Names.DroppedAttributesCount, dropped);
        if (!schemaUrl.IsEmpty) w.WriteString(Names.SchemaUrl, Utf8(schemaUrl, "schema_url"));
        batch.EndScope();
    }

    private static void WriteRecord(ReadOnlySpan<byte> record, OtlpLogBatch batch)
    {
        ulong time = 0, observed = 0, severity = 0, dropped = 0;
        uint flags = 0;
        ReadOnlySpan<byte> severityText = default, body = default, traceId = default, spanId = default, eventName = default;
        var hasBody = false;
        var reader = new ProtoReader(record);
        while (reader.Next(out var field, out var type))
        {
            switch (field)
            {
                case OtlpWire.LogRecord.TimeUnixNano: time = Fixed64(ref reader, type, field); break;
                case OtlpWire.LogRecord.ObservedTimeUnixNano: observed = Fixed64(ref reader, type, field); break;
                case OtlpWire.LogRecord.SeverityNumber: severity = Varint(ref reader, type, field); break;
                case OtlpWire.LogRecord.DroppedAttributesCount: dropped = Varint(ref reader, type, field); break;
                case OtlpWire.LogRecord.Flags:
                    reader.Require(type, WireFormat.WireType.Fixed32, field);
                    flags = reader.ReadFixed32();
                    break;
                case OtlpWire.LogRecord.SeverityText: severityText = Delimited(ref reader, type, field); break;
                case OtlpWire.LogRecord.Body:
                    body = Delimited(ref reader, type, field);
                    hasBody = true;
                    break;
                case OtlpWire.LogRecord.TraceId: traceId = Delimited(ref reader, type, field); break;
                case OtlpWire.LogRecord.SpanId: spanId = Delimited(ref reader, type, field); break;
                case OtlpWire.LogRecord.EventName: eventName = Delimited(ref reader, type, field); break;
                case OtlpWire.LogRecord.Attributes: Delimited(ref reader, type, field); break;
                default: reader.Skip(type); break;
            }
        }

        var w = batch.BeginRecord();
        WriteTime(w, Names.Time, time);
        WriteTime(w, Names.ObservedTime, observed);
        batch.Severity(severity, Utf8(severityText, "severity_text"));
        if (hasBody)
        {
            batch.BeginBody();
            var isString = WriteAnyValue(body, w, 0);
            batch.EndBody(isString);
        }
        WriteAttributes(record, OtlpWire.LogRecord.Attributes, w, batch, Facts.Record);
        if (dropped > 0) w.WriteNumber(Names.DroppedAttributesCount, dropped);
        if (flags != 0) w.WriteNumber(Names.Flags, flags);
        WriteId(w, Names.TraceId, traceId, 16);
        WriteId(w, Names.SpanId, spanId, 8);
        if (!eventName.IsEmpty) w.WriteString(Names.EventName, Utf8(eventName, "event_name"));
        batch.EndRecord();
    }

    private enum Facts
    {
        None,
        Resource,
        Record,
    }

    /// <summary>Writes the <c>KeyValue</c> fields numbered <paramref name="field"/> of a message as one JSON object (none: nothing).</summary>
    private static void WriteAttributes(ReadOnlySpan<byte> message, int field, Utf8JsonWriter w, OtlpLogBatch batch, Facts facts)
    {
        var any = false;
        var reader = new ProtoReader(message);
        while (reader.Next(out var number, out var type))
        {
            if (number != field)
            {
                reader.Skip(type);
                continue;
            }
            reader.Require(type, Bytes, number);
            if (!any)
            {
                w.WriteStartObject(Names.Attributes);
                any = true;
            }
            var value = WriteKeyValue(reader.ReadLengthDelimited(), w, 0, out var key);
            if (facts != Facts.None && TryString(value, out var text))
            {
                if (facts == Facts.Resource) batch.ResourceFacts(key, text);
                else batch.RecordFacts(key, text);
            }
        }
        if (any) w.WriteEndObject();
    }
}
