using System.Text;
using Google.Protobuf;

namespace Pipeline.Tests.Shared;

/// <summary>
/// Builds OTLP protobuf messages field by field with Google.Protobuf's <see cref="CodedOutputStream"/>, numbering
/// fields from opentelemetry-proto by hand (not from the edge's own table), so tests and benchmarks check the
/// decoder against the specification rather than against itself.
/// </summary>
internal sealed class ProtoMessage
{
    private readonly MemoryStream _stream = new();
    private readonly CodedOutputStream _output;

    public ProtoMessage() => _output = new CodedOutputStream(_stream, leaveOpen: true);

    public ProtoMessage String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoMessage Bytes(int field, byte[] value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteBytes(ByteString.CopyFrom(value));
        return this;
    }

    public ProtoMessage Message(int field, ProtoMessage value) => Bytes(field, value.ToArray());

    public ProtoMessage Varint(int field, ulong value)
    {
        _output.WriteTag(field, WireFormat.WireType.Varint);
        _output.WriteUInt64(value);
        return this;
    }

    public ProtoMessage Fixed64(int field, ulong value)
    {
        _output.WriteTag(field, WireFormat.WireType.Fixed64);
        _output.WriteFixed64(value);
        return this;
    }

    public ProtoMessage Fixed32(int field, uint value)
    {
        _output.WriteTag(field, WireFormat.WireType.Fixed32);
        _output.WriteFixed32(value);
        return this;
    }

    public ProtoMessage Double(int field, double value)
    {
        _output.WriteTag(field, WireFormat.WireType.Fixed64);
        _output.WriteDouble(value);
        return this;
    }

    public byte[] ToArray()
    {
        _output.Flush();
        return _stream.ToArray();
    }
}

/// <summary>OTLP logs messages (collector/logs/v1, logs/v1, common/v1, resource/v1) in protobuf.</summary>
internal static class OtlpRequests
{
    public static ProtoMessage AnyString(string value) => new ProtoMessage().String(1, value);
    public static ProtoMessage AnyBool(bool value) => new ProtoMessage().Varint(2, value ? 1UL : 0UL);
    public static ProtoMessage AnyInt(long value) => new ProtoMessage().Varint(3, (ulong)value);
    public static ProtoMessage AnyDouble(double value) => new ProtoMessage().Double(4, value);
    public static ProtoMessage AnyBytes(byte[] value) => new ProtoMessage().Bytes(7, value);

    public static ProtoMessage AnyArray(params ProtoMessage[] values)
    {
        var array = new ProtoMessage();
        foreach (var value in values) array.Message(1, value);
        return new ProtoMessage().Message(5, array);
    }

    public static ProtoMessage AnyMap(params (string Key, ProtoMessage Value)[] pairs)
    {
        var list = new ProtoMessage();
        foreach (var (key, value) in pairs) list.Message(1, KeyValue(key, value));
        return new ProtoMessage().Message(6, list);
    }

    public static ProtoMessage KeyValue(string key, ProtoMessage value) => new ProtoMessage().String(1, key).Message(2, value);

    /// <summary>A <c>Resource</c> with string attributes.</summary>
    public static ProtoMessage Resource(params (string Key, string Value)[] attributes)
    {
        var resource = new ProtoMessage();
        foreach (var (key, value) in attributes) resource.Message(1, KeyValue(key, AnyString(value)));
        return resource;
    }

    public static ProtoMessage Scope(string name, string version) => new ProtoMessage().String(1, name).String(2, version);

    /// <summary>A <c>LogRecord</c> with the commonest fields; add more with the returned message.</summary>
    public static ProtoMessage Record(string body, int severityNumber = 9, string severityText = "Information", ulong timeUnixNano = 1_700_000_000_123_456_789,
        params (string Key, ProtoMessage Value)[] attributes)
    {
        var record = new ProtoMessage()
            .Fixed64(1, timeUnixNano)
            .Varint(2, (ulong)severityNumber)
            .String(3, severityText)
            .Message(5, AnyString(body));
        foreach (var (key, value) in attributes) record.Message(6, KeyValue(key, value));
        return record.Fixed64(11, timeUnixNano + 1000);
    }

    /// <summary>An <c>ExportLogsServiceRequest</c>: one resource, one scope, these records.</summary>
    public static byte[] Request(ProtoMessage resource, ProtoMessage scope, params ProtoMessage[] records)
    {
        var scopeLogs = new ProtoMessage().Message(1, scope);
        foreach (var record in records) scopeLogs.Message(2, record);
        var resourceLogs = new ProtoMessage().Message(1, resource).Message(2, scopeLogs);
        return new ProtoMessage().Message(1, resourceLogs).ToArray();
    }

    /// <summary>The same request as <see cref="Batch"/>, in OTLP/JSON.</summary>
    public static byte[] BatchJson(int first, int count, string service = "checkout")
    {
        var records = string.Join(',', Enumerable.Range(first, count).Select(n =>
            $$$"""{"timeUnixNano":"{{{1_700_000_000_000_000_000UL + (ulong)n}}}","observedTimeUnixNano":"{{{1_700_000_000_000_001_000UL + (ulong)n}}}","severityNumber":9,"severityText":"Information","body":{"stringValue":"benchmark record number {{{n}}} with a little text"},"attributes":[{"key":"seq","value":{"intValue":"{{{n}}}"}},{"key":"http.route","value":{"stringValue":"/cart/{id}"}}]}"""));
        return Encoding.UTF8.GetBytes($$$"""{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"{{{service}}}"}},{"key":"host.name","value":{"stringValue":"host-{{{first % 64}}}"}}]},"scopeLogs":[{"scope":{"name":"bench","version":"1.0"},"logRecords":[{{{records}}}]}]}]}""");
    }

    /// <summary>A request of <paramref name="count"/> small records from one service (benchmarks).</summary>
    public static byte[] Batch(int first, int count, string service = "checkout")
    {
        var records = Enumerable.Range(first, count).Select(n => Record($"benchmark record number {n} with a little text", 9, "Information",
            1_700_000_000_000_000_000UL + (ulong)n, ("seq", AnyInt(n)), ("http.route", AnyString("/cart/{id}")))).ToArray();
        return Request(Resource(("service.name", service), ("host.name", $"host-{first % 64}")), Scope("bench", "1.0"), records);
    }
}
