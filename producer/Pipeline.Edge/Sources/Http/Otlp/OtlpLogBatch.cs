using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>One record of a request found bad (not valid UTF-8, nested too deep…): it alone is rejected.</summary>
internal sealed class OtlpRecordException(string message) : Exception(message);

/// <summary>A run of UTF-8 text kept beside the payloads (a fact routing reads); empty when absent.</summary>
internal readonly record struct TextRef(int Start, int Length);

/// <summary>One decoded log record: where its payload and message are in the batch, and what routing and keys read.</summary>
internal readonly record struct LogSlot(int Payload, int PayloadLength, int Message, int MessageLength, int Severity, TextRef Service, TextRef Host, TextRef Uid);

/// <summary>
/// The log records of one OTLP request, each rendered to the JSON payload its envelope will carry, before any of
/// them is published: a request that turns out not to be OTLP is refused whole (400) with nothing kept, and a
/// single bad record is left out and counted (partial success). Both decoders (protobuf and JSON) write through
/// this class, so both give the same payload. One batch per thread, reused; valid until the thread's next request.
/// </summary>
/// <remarks>
/// Payload: <c>time</c>, <c>observed_time</c> (RFC 3339, nanoseconds), <c>severity_number</c>, <c>severity_text</c>,
/// <c>body</c> (any JSON), <c>attributes</c> (an object, nesting kept), <c>dropped_attributes_count</c>, <c>flags</c>,
/// <c>trace_id</c>, <c>span_id</c> (lower-case hex), <c>event_name</c>, <c>resource</c> {<c>attributes</c>, …,
/// <c>schema_url</c>}, <c>scope</c> {<c>name</c>, <c>version</c>, <c>attributes</c>, …}. Absent fields are left out.
/// </remarks>
internal sealed class OtlpLogBatch
{
    /// <summary>Nesting of arrays and maps inside one value, at most (a record nested deeper is rejected).</summary>
    public const int MaxValueDepth = 64;

    // A batch that grew for a very large request is not kept for the thread's next one.
    private const int KeepCapacity = 4 << 20;

    [ThreadStatic] private static OtlpLogBatch? t_current;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        SkipValidation = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly TruncatableBuffer _payloads = new(64 * 1024);
    private readonly TruncatableBuffer _texts = new(1024);
    private readonly ArrayBufferWriter<byte> _resource = new(1024);
    private readonly ArrayBufferWriter<byte> _scope = new(512);
    private readonly Utf8JsonWriter _json;
    private readonly Utf8JsonWriter _resourceJson;
    private readonly Utf8JsonWriter _scopeJson;
    private readonly List<LogSlot> _records = [];

    private TextRef _service;
    private TextRef _host;
    private TextRef _uid;
    private int _recordStart;
    private int _message;
    private int _messageLength;
    private int _severity;

    private OtlpLogBatch()
    {
        _json = new Utf8JsonWriter(_payloads, WriterOptions);
        _resourceJson = new Utf8JsonWriter(_resource, WriterOptions);
        _scopeJson = new Utf8JsonWriter(_scope, WriterOptions);
    }

    /// <summary>The calling thread's batch, emptied.</summary>
    public static OtlpLogBatch Rent()
    {
        var batch = t_current;
        if (batch is null || batch._payloads.Capacity > KeepCapacity || batch._texts.Capacity > KeepCapacity) t_current = batch = new OtlpLogBatch();
        batch.Clear();
        return batch;
    }

    public IReadOnlyList<LogSlot> Records => _records;

    /// <summary>Records left out, and the reason given for the first of them.</summary>
    public int Rejected { get; private set; }

    public string? FirstRejection { get; private set; }

    public ReadOnlyMemory<byte> Payload(in LogSlot slot) => _payloads.Memory(slot.Payload, slot.PayloadLength);

    /// <summary>The record's message: the body when it is a string, as a JSON string (quotes included); else empty.</summary>
    public ReadOnlySpan<byte> Message(in LogSlot slot) => _payloads.Span(slot.Message, slot.MessageLength);

    public ReadOnlySpan<byte> Text(TextRef text) => _texts.Span(text.Start, text.Length);

    public Utf8JsonWriter BeginResource()
    {
        _resource.ResetWrittenCount();
        _resourceJson.Reset(_resource);
        _resourceJson.WriteStartObject();
        _service = _host = default;
        return _resourceJson;
    }

    public void EndResource()
    {
        _resourceJson.WriteEndObject();
        _resourceJson.Flush();
    }

    public Utf8JsonWriter BeginScope()
    {
        _scope.ResetWrittenCount();
        _scopeJson.Reset(_scope);
        _scopeJson.WriteStartObject();
        return _scopeJson;
    }

    public void EndScope()
    {
        _scopeJson.WriteEndObject();
        _scopeJson.Flush();
    }

    /// <summary>Called while rendering a resource's attributes: <c>service.name</c> and <c>host.name</c>.</summary>
    public void ResourceFacts(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (key.SequenceEqual(OtlpWire.Conventions.ServiceName)) _service = Keep(value);
        else if (key.SequenceEqual(OtlpWire.Conventions.HostName)) _host = Keep(value);
    }

    /// <summary>Called while rendering a record's attributes: <c>log.record.uid</c>, the record's own id.</summary>
    public void RecordFacts(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (key.SequenceEqual(OtlpWire.Conventions.LogRecordUid)) _uid = Keep(value);
    }

    public Utf8JsonWriter BeginRecord()
    {
        _json.Reset();
        _recordStart = _payloads.Length;
        _uid = default;
        _message = _messageLength = 0;
        _severity = -1;
        _json.WriteStartObject();
        return _json;
    }

    /// <summary>The record's severity for routing: OTLP's number, else its text read as a level name.</summary>
    public void Severity(ulong number, ReadOnlySpan<byte> text)
    {
        _severity = number is >= 1 and <= 24 ? SyslogSeverity((int)number) : SyslogNames.SeverityOfLevel(text);
        if (number != 0) _json.WriteNumber(Names.SeverityNumber, number);
        if (!text.IsEmpty) _json.WriteString(Names.SeverityText, text);
    }

    /// <summary>Writes <c>"body":</c>; the value follows, then <see cref="EndBody"/>.</summary>
    public void BeginBody()
    {
        _json.WritePropertyName(Names.Body);
        _json.Flush();
        _message = _payloads.Length;
    }

    /// <summary>A body that is a string is also the envelope's <c>message</c>.</summary>
    public void EndBody(bool isString)
    {
        _json.Flush();
        _messageLength = isString ? _payloads.Length - _message : 0;
    }

    public void EndRecord()
    {
        if (_resource.WrittenCount > 2)
        {
            _json.WritePropertyName(Names.Resource);
            _json.WriteRawValue(_resource.WrittenSpan, skipInputValidation: true);
        }
        if (_scope.WrittenCount > 2)
        {
            _json.WritePropertyName(Names.Scope);
            _json.WriteRawValue(_scope.WrittenSpan, skipInputValidation: true);
        }
        _json.WriteEndObject();
        _json.Flush();
        _records.Add(new LogSlot(_recordStart, _payloads.Length - _recordStart, _message, _messageLength, _severity, _service, _host, _uid));
    }

    /// <summary>Leaves the record being rendered out and counts it.</summary>
    public void RejectRecord(string reason)
    {
        _json.Reset();
        _payloads.Truncate(_recordStart);
        Rejected++;
        FirstRejection ??= reason;
    }

    /// <summary>Leaves out records never rendered because what they share (their resource or scope) cannot be kept.</summary>
    public void RejectRecords(int count, string reason)
    {
        if (count == 0) return;
        Rejected += count;
        FirstRejection ??= reason;
    }

    /// <summary>Writes a time given in nanoseconds since the Unix epoch as RFC 3339 UTC with all nine digits; 0 (unknown) is left out.</summary>
    public static void WriteTime(Utf8JsonWriter w, JsonEncodedText name, ulong unixNanos)
    {
        if (unixNanos == 0) return;
        Span<byte> text = stackalloc byte[32];
        var at = DateTime.UnixEpoch.AddSeconds(unixNanos / 1_000_000_000);
        at.TryFormat(text, out var length, "yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture);
        text[length++] = (byte)'.';
        ((uint)(unixNanos % 1_000_000_000)).TryFormat(text[length..], out var digits, "D9", CultureInfo.InvariantCulture);
        length += digits;
        text[length++] = (byte)'Z';
        w.WriteString(name, text[..length]);
    }

    /// <summary>A trace or span id as lower-case hex; left out when it is invalid (wrong length, or all zeroes), as OTLP says.</summary>
    public static void WriteId(Utf8JsonWriter w, JsonEncodedText name, ReadOnlySpan<byte> id, int length)
    {
        if (id.Length != length || !id.ContainsAnyExcept((byte)0)) return;
        Span<byte> hex = stackalloc byte[2 * length];
        for (var i = 0; i < id.Length; i++)
        {
            hex[2 * i] = (byte)"0123456789abcdef"[id[i] >> 4];
            hex[2 * i + 1] = (byte)"0123456789abcdef"[id[i] & 15];
        }
        w.WriteString(name, hex);
    }

    /// <summary>OTLP severity numbers (1-4 trace … 21-24 fatal) on the syslog scale routes use.</summary>
    private static int SyslogSeverity(int number) => number switch
    {
        <= 8 => 7,
        <= 12 => 6,
        <= 16 => 4,
        <= 20 => 3,
        _ => 2,
    };

    private TextRef Keep(ReadOnlySpan<byte> value)
    {
        var start = _texts.Length;
        _texts.Append(value);
        return new TextRef(start, value.Length);
    }

    private void Clear()
    {
        _payloads.Truncate(0);
        _texts.Truncate(0);
        _records.Clear();
        _resource.ResetWrittenCount();
        _scope.ResetWrittenCount();
        Rejected = 0;
        FirstRejection = null;
    }

    /// <summary>The payload's property names, encoded once.</summary>
    public static class Names
    {
        public static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
        public static readonly JsonEncodedText ObservedTime = JsonEncodedText.Encode("observed_time");
        public static readonly JsonEncodedText SeverityNumber = JsonEncodedText.Encode("severity_number");
        public static readonly JsonEncodedText SeverityText = JsonEncodedText.Encode("severity_text");
        public static readonly JsonEncodedText Body = JsonEncodedText.Encode("body");
        public static readonly JsonEncodedText Attributes = JsonEncodedText.Encode("attributes");
        public static readonly JsonEncodedText DroppedAttributesCount = JsonEncodedText.Encode("dropped_attributes_count");
        public static readonly JsonEncodedText Flags = JsonEncodedText.Encode("flags");
        public static readonly JsonEncodedText TraceId = JsonEncodedText.Encode("trace_id");
        public static readonly JsonEncodedText SpanId = JsonEncodedText.Encode("span_id");
        public static readonly JsonEncodedText EventName = JsonEncodedText.Encode("event_name");
        public static readonly JsonEncodedText Resource = JsonEncodedText.Encode("resource");
        public static readonly JsonEncodedText Scope = JsonEncodedText.Encode("scope");
        public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
        public static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
        public static readonly JsonEncodedText SchemaUrl = JsonEncodedText.Encode("schema_url");
    }
}
