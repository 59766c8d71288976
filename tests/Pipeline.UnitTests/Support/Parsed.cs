using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Support;

/// <summary>A parsed line with its ranges turned into strings, so tests read as field assertions.</summary>
internal sealed record Parsed(
    SyslogMessage Raw,
    string? Hostname,
    string? AppName,
    string? ProcId,
    string? MsgId,
    string? StructuredData,
    string? Message,
    string? SequenceNumber)
{
    /// <summary>A fixed receive time for lines whose year does not matter to the test.</summary>
    public static readonly DateTimeOffset DefaultReceivedAt = new(2024, 6, 15, 12, 0, 0, TimeSpan.Zero);

    public SyslogFormat Format => Raw.Format;
    public ParseStatus Status => Raw.Status;
    public string? Error => Raw.Error;
    public int Facility => Raw.Facility;
    public int Severity => Raw.Severity;
    public DateTimeOffset? Timestamp => Raw.Timestamp;

    public static Parsed Of(string line, DateTimeOffset? receivedAt = null, ITimeZoneResolver? zones = null, IPAddress? sourceIp = null) =>
        Of(Encoding.UTF8.GetBytes(line), receivedAt, zones, sourceIp);

    public static Parsed Of(byte[] line, DateTimeOffset? receivedAt = null, ITimeZoneResolver? zones = null, IPAddress? sourceIp = null)
    {
        var context = new SyslogParseContext(receivedAt ?? DefaultReceivedAt, sourceIp, zones ?? UtcTimeZoneResolver.Instance);
        var m = SyslogParser.Parse(line, context);
        return new Parsed(
            m,
            Text(line, m.Hostname),
            Text(line, m.AppName),
            Text(line, m.ProcId),
            Text(line, m.MsgId),
            Text(line, m.StructuredData),
            Text(line, m.Message),
            Text(line, m.SequenceNumber));
    }

    /// <summary><paramref name="sd"/> as <see cref="StructuredData.WriteJson"/> writes it.</summary>
    public static string SdJson(ReadOnlySpan<byte> sd)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Pipeline.Edge.Sources.Syslog.StructuredData.WriteJson(sd, writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string SdJson(string sd) => SdJson(Encoding.UTF8.GetBytes(sd));

    private static string? Text(byte[] line, TextRange range) => range.IsPresent ? Encoding.UTF8.GetString(range.Of(line)) : null;
}
