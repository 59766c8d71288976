namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// The OTLP messages the edge reads and writes, by field number (protobuf) and lowerCamelCase name (OTLP/JSON),
/// as opentelemetry-proto defines them (collector/logs/v1, logs/v1, common/v1, resource/v1) and the OTLP
/// specification maps them to JSON. The one place these numbers and names are spelled.
/// </summary>
internal static class OtlpWire
{
    /// <summary><c>ExportLogsServiceRequest</c>.</summary>
    public static class Request
    {
        public const int ResourceLogs = 1;
        public static ReadOnlySpan<byte> ResourceLogsJson => "resourceLogs"u8;
    }

    public static class ResourceLogs
    {
        public const int Resource = 1;
        public const int ScopeLogs = 2;
        public const int SchemaUrl = 3;
        public static ReadOnlySpan<byte> ResourceJson => "resource"u8;
        public static ReadOnlySpan<byte> ScopeLogsJson => "scopeLogs"u8;
    }

    public static class Resource
    {
        public const int Attributes = 1;
        public const int DroppedAttributesCount = 2;
    }

    public static class ScopeLogs
    {
        public const int Scope = 1;
        public const int LogRecords = 2;
        public const int SchemaUrl = 3;
        public static ReadOnlySpan<byte> ScopeJson => "scope"u8;
        public static ReadOnlySpan<byte> LogRecordsJson => "logRecords"u8;
    }

    /// <summary><c>InstrumentationScope</c>.</summary>
    public static class Scope
    {
        public const int Name = 1;
        public const int Version = 2;
        public const int Attributes = 3;
        public const int DroppedAttributesCount = 4;
        public static ReadOnlySpan<byte> NameJson => "name"u8;
        public static ReadOnlySpan<byte> VersionJson => "version"u8;
    }

    public static class LogRecord
    {
        public const int TimeUnixNano = 1;
        public const int SeverityNumber = 2;
        public const int SeverityText = 3;
        public const int Body = 5;
        public const int Attributes = 6;
        public const int DroppedAttributesCount = 7;
        public const int Flags = 8;
        public const int TraceId = 9;
        public const int SpanId = 10;
        public const int ObservedTimeUnixNano = 11;
        public const int EventName = 12;
        public static ReadOnlySpan<byte> TimeUnixNanoJson => "timeUnixNano"u8;
        public static ReadOnlySpan<byte> ObservedTimeUnixNanoJson => "observedTimeUnixNano"u8;
        public static ReadOnlySpan<byte> SeverityNumberJson => "severityNumber"u8;
        public static ReadOnlySpan<byte> SeverityTextJson => "severityText"u8;
        public static ReadOnlySpan<byte> BodyJson => "body"u8;
        public static ReadOnlySpan<byte> FlagsJson => "flags"u8;
        public static ReadOnlySpan<byte> TraceIdJson => "traceId"u8;
        public static ReadOnlySpan<byte> SpanIdJson => "spanId"u8;
        public static ReadOnlySpan<byte> EventNameJson => "eventName"u8;
    }

    /// <summary>Names several messages share in OTLP/JSON.</summary>
    public static class Common
    {
        public static ReadOnlySpan<byte> AttributesJson => "attributes"u8;
        public static ReadOnlySpan<byte> DroppedAttributesCountJson => "droppedAttributesCount"u8;
        public static ReadOnlySpan<byte> SchemaUrlJson => "schemaUrl"u8;
    }

    public static class KeyValue
    {
        public const int Key = 1;
        public const int Value = 2;
        public static ReadOnlySpan<byte> KeyJson => "key"u8;
        public static ReadOnlySpan<byte> ValueJson => "value"u8;
    }

    /// <summary><c>AnyValue</c> (a oneof), and <c>ArrayValue</c>/<c>KeyValueList</c>, whose only field is <see cref="Values"/>.</summary>
    public static class AnyValue
    {
        public const int String = 1;
        public const int Bool = 2;
        public const int Int = 3;
        public const int Double = 4;
        public const int Array = 5;
        public const int KeyValueList = 6;
        public const int Bytes = 7;
        public const int Values = 1;
        public static ReadOnlySpan<byte> StringJson => "stringValue"u8;
        public static ReadOnlySpan<byte> BoolJson => "boolValue"u8;
        public static ReadOnlySpan<byte> IntJson => "intValue"u8;
        public static ReadOnlySpan<byte> DoubleJson => "doubleValue"u8;
        public static ReadOnlySpan<byte> ArrayJson => "arrayValue"u8;
        public static ReadOnlySpan<byte> KeyValueListJson => "kvlistValue"u8;
        public static ReadOnlySpan<byte> BytesJson => "bytesValue"u8;
        public static ReadOnlySpan<byte> ValuesJson => "values"u8;
    }

    /// <summary><c>ExportLogsServiceResponse</c> and its <c>ExportLogsPartialSuccess</c>.</summary>
    public static class Response
    {
        public const int PartialSuccess = 1;
        public const int RejectedLogRecords = 1;
        public const int ErrorMessage = 2;
        public const string PartialSuccessJson = "partialSuccess";
        public const string RejectedLogRecordsJson = "rejectedLogRecords";
        public const string ErrorMessageJson = "errorMessage";
    }

    /// <summary><c>google.rpc.Status</c>, the body of every 4xx and 5xx answer.</summary>
    public static class Status
    {
        public const int Code = 1;
        public const int Message = 2;
        public const string CodeJson = "code";
        public const string MessageJson = "message";
    }

    /// <summary>Resource and record attributes the edge reads for routing, keys and ids (OpenTelemetry semantic conventions).</summary>
    public static class Conventions
    {
        public static ReadOnlySpan<byte> ServiceName => "service.name"u8;
        public static ReadOnlySpan<byte> HostName => "host.name"u8;
        public static ReadOnlySpan<byte> LogRecordUid => "log.record.uid"u8;
    }
}
