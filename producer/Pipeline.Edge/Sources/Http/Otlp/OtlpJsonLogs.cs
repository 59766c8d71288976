using System.Text;
using System.Text.Json;
using static Pipeline.Edge.Sources.Http.Otlp.OtlpLogBatch;
using static Pipeline.Edge.Sources.Http.Otlp.OtlpJsonValues;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// Reads an <c>ExportLogsServiceRequest</c> in OTLP/JSON (<c>application/json</c>) into an <see cref="OtlpLogBatch"/>:
/// lowerCamelCase names, trace and span ids in hex, 64-bit integers as strings or numbers, enums as integers,
/// unknown fields ignored. A body that is not JSON, or whose containers are not the OTLP shape, throws
/// <see cref="OtlpFormatException"/>; a record with a bad value (a time that is not a number, an enum given by
/// name) is rejected alone. Values and the checked member readers are in <see cref="OtlpJsonValues"/>, so this
/// reads as the request's shape: resources, scopes, records.
/// </summary>
internal static class OtlpJsonLogs
{
    // An AnyValue level is three JSON levels ({"kvlistValue":{"values":[{…}]}}); room for the values' own limit.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 8 + 4 * MaxValueDepth };

    public static void Read(ReadOnlyMemory<byte> request, OtlpLogBatch batch)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(request, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new OtlpFormatException("the body is not JSON: " + ex.Message);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new OtlpFormatException("an ExportLogsServiceRequest is a JSON object");
            foreach (var resourceLogs in Array(root, OtlpWire.Request.ResourceLogsJson))
                ReadResourceLogs(Object(resourceLogs, "resourceLogs"), batch);
        }
    }

    private static void ReadResourceLogs(JsonElement resourceLogs, OtlpLogBatch batch)
    {
        string? unusable = null;
        try
        {
            WriteResource(resourceLogs, batch);
        }
        catch (OtlpRecordException ex)
        {
            // Every record carries its resource: without it, none of them can be kept.
            unusable = "their resource: " + ex.Message;
        }
        foreach (var scopeLogs in Array(resourceLogs, OtlpWire.ResourceLogs.ScopeLogsJson))
        {
            Object(scopeLogs, "scopeLogs");
            if (unusable is null) ReadScopeLogs(scopeLogs, batch);
            else batch.RejectRecords(Array(scopeLogs, OtlpWire.ScopeLogs.LogRecordsJson).Count(), unusable);
        }
    }

    private static void WriteResource(JsonElement resourceLogs, OtlpLogBatch batch)
    {
        var w = batch.BeginResource();
        if (resourceLogs.TryGetProperty(OtlpWire.ResourceLogs.ResourceJson, out var resource) && resource.ValueKind != JsonValueKind.Null)
        {
            Object(resource, "resource");
            WriteAttributes(resource, w, batch, Facts.Resource);
            WriteCount(resource, OtlpWire.Common.DroppedAttributesCountJson, w, Names.DroppedAttributesCount);
        }
        WriteSchemaUrl(resourceLogs, w);
        batch.EndResource();
    }

    private static void ReadScopeLogs(JsonElement scopeLogs, OtlpLogBatch batch)
    {
        try
        {
            WriteScope(scopeLogs, batch);
        }
        catch (OtlpRecordException ex)
        {
            batch.RejectRecords(Array(scopeLogs, OtlpWire.ScopeLogs.LogRecordsJson).Count(), "their scope: " + ex.Message);
            return;
        }
        foreach (var record in Array(scopeLogs, OtlpWire.ScopeLogs.LogRecordsJson))
        {
            Object(record, "logRecords");
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

    private static void WriteScope(JsonElement scopeLogs, OtlpLogBatch batch)
    {
        var w = batch.BeginScope();
        if (scopeLogs.TryGetProperty(OtlpWire.ScopeLogs.ScopeJson, out var scope) && scope.ValueKind != JsonValueKind.Null)
        {
            Object(scope, "scope");
            WriteString(scope, OtlpWire.Scope.NameJson, w, Names.Name);
            WriteString(scope, OtlpWire.Scope.VersionJson, w, Names.Version);
            WriteAttributes(scope, w, batch, Facts.None);
            WriteCount(scope, OtlpWire.Common.DroppedAttributesCountJson, w, Names.DroppedAttributesCount);
        }
        WriteSchemaUrl(scopeLogs, w);
        batch.EndScope();
    }

    private static void WriteRecord(JsonElement record, OtlpLogBatch batch)
    {
        var w = batch.BeginRecord();
        WriteTime(w, Names.Time, UInt64(record, OtlpWire.LogRecord.TimeUnixNanoJson));
        WriteTime(w, Names.ObservedTime, UInt64(record, OtlpWire.LogRecord.ObservedTimeUnixNanoJson));
        var severity = record.TryGetProperty(OtlpWire.LogRecord.SeverityNumberJson, out var number) && number.ValueKind != JsonValueKind.Null
            ? number.ValueKind == JsonValueKind.Number && number.TryGetUInt32(out var n) ? n
                : throw new OtlpRecordException("severityNumber must be an integer (OTLP/JSON encodes enums as integers)")
            : 0;
        batch.Severity(severity, Text(record, OtlpWire.LogRecord.SeverityTextJson));
        if (record.TryGetProperty(OtlpWire.LogRecord.BodyJson, out var body))
        {
            batch.BeginBody();
            var isString = WriteAnyValue(body, w, 0);
            batch.EndBody(isString);
        }
        WriteAttributes(record, w, batch, Facts.Record);
        WriteCount(record, OtlpWire.Common.DroppedAttributesCountJson, w, Names.DroppedAttributesCount);
        WriteCount(record, OtlpWire.LogRecord.FlagsJson, w, Names.Flags);
        WriteHexId(record, OtlpWire.LogRecord.TraceIdJson, w, Names.TraceId, 16);
        WriteHexId(record, OtlpWire.LogRecord.SpanIdJson, w, Names.SpanId, 8);
        WriteString(record, OtlpWire.LogRecord.EventNameJson, w, Names.EventName);
        batch.EndRecord();
    }

    private enum Facts
    {
        None,
        Resource,
        Record,
    }

    private static void WriteAttributes(JsonElement owner, Utf8JsonWriter w, OtlpLogBatch batch, Facts facts)
    {
        if (!owner.TryGetProperty(OtlpWire.Common.AttributesJson, out var attributes) || attributes.ValueKind == JsonValueKind.Null) return;
        if (attributes.ValueKind != JsonValueKind.Array) throw new OtlpRecordException("attributes must be an array of {key, value}");
        if (attributes.GetArrayLength() == 0) return;
        w.WriteStartObject(Names.Attributes);
        foreach (var pair in attributes.EnumerateArray())
        {
            var value = WriteKeyValue(pair, w, 0, out var key);
            if (facts != Facts.None && value.ValueKind == JsonValueKind.Object && value.TryGetProperty(OtlpWire.AnyValue.StringJson, out var text)
                && text.ValueKind == JsonValueKind.String)
            {
                if (facts == Facts.Resource) batch.ResourceFacts(key, Unescaped(text));
                else batch.RecordFacts(key, Unescaped(text));
            }
        }
        w.WriteEndObject();
    }

    /// <summary>The request's containers (resourceLogs, scopeLogs, logRecords) must have OTLP's shape, or nothing of it is kept.</summary>
    private static JsonElement.ArrayEnumerator Array(JsonElement owner, ReadOnlySpan<byte> name)
    {
        if (!owner.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null) array = None;
        if (array.ValueKind != JsonValueKind.Array) throw new OtlpFormatException($"{Encoding.UTF8.GetString(name)} must be an array");
        return array.EnumerateArray();
    }

    private static JsonElement Object(JsonElement value, string what) =>
        value.ValueKind == JsonValueKind.Object ? value : throw new OtlpFormatException($"each of {what} must be an object");
}
