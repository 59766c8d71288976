using System.Text;
using System.Text.Json;

namespace Pipeline.Core.Envelope;

/// <summary>
/// <see cref="EnvelopeFields"/> as UTF-8 bytes, for a <see cref="Utf8JsonReader"/>: <c>reader.ValueTextEquals(EnvelopeUtf8.Id)</c>.
/// Arrays made once behind span properties: measured against <c>"…"u8</c> literals, name matching costs about as
/// much (a <see cref="JsonEncodedText"/>'s bytes, one load further away, measurably more).
/// </summary>
public static class EnvelopeUtf8
{
    private static readonly byte[] IdBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Id);
    private static readonly byte[] ReceivedAtBytes = Encoding.UTF8.GetBytes(EnvelopeFields.ReceivedAt);
    private static readonly byte[] KindBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Kind);
    private static readonly byte[] SourceBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Source);
    private static readonly byte[] TenantBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Tenant);
    private static readonly byte[] TagsBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Tags);
    private static readonly byte[] SampleRateBytes = Encoding.UTF8.GetBytes(EnvelopeFields.SampleRate);
    private static readonly byte[] SyslogBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Syslog);
    private static readonly byte[] MessageBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Message);
    private static readonly byte[] PayloadBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Payload);
    private static readonly byte[] StreamBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Stream);
    private static readonly byte[] RawBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Raw);
    private static readonly byte[] RawBase64Bytes = Encoding.UTF8.GetBytes(EnvelopeFields.RawBase64);
    private static readonly byte[] TruncatedBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Truncated);
    private static readonly byte[] ParseStatusBytes = Encoding.UTF8.GetBytes(EnvelopeFields.ParseStatus);
    private static readonly byte[] ParseErrorBytes = Encoding.UTF8.GetBytes(EnvelopeFields.ParseError);
    private static readonly byte[] MetricBytes = Encoding.UTF8.GetBytes(EnvelopeFields.Metric);

    public static ReadOnlySpan<byte> Id => IdBytes;
    public static ReadOnlySpan<byte> ReceivedAt => ReceivedAtBytes;
    public static ReadOnlySpan<byte> Kind => KindBytes;
    public static ReadOnlySpan<byte> Source => SourceBytes;
    public static ReadOnlySpan<byte> Tenant => TenantBytes;
    public static ReadOnlySpan<byte> Tags => TagsBytes;
    public static ReadOnlySpan<byte> SampleRate => SampleRateBytes;
    public static ReadOnlySpan<byte> Syslog => SyslogBytes;
    public static ReadOnlySpan<byte> Message => MessageBytes;
    public static ReadOnlySpan<byte> Payload => PayloadBytes;
    public static ReadOnlySpan<byte> Stream => StreamBytes;
    public static ReadOnlySpan<byte> Raw => RawBytes;
    public static ReadOnlySpan<byte> RawBase64 => RawBase64Bytes;
    public static ReadOnlySpan<byte> Truncated => TruncatedBytes;
    public static ReadOnlySpan<byte> ParseStatus => ParseStatusBytes;
    public static ReadOnlySpan<byte> ParseError => ParseErrorBytes;
    public static ReadOnlySpan<byte> Metric => MetricBytes;

    /// <summary>The fields of <c>source</c>.</summary>
    public static class OfSource
    {
        private static readonly byte[] TransportBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSource.Transport);
        private static readonly byte[] IpBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSource.Ip);
        private static readonly byte[] PortBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSource.Port);
        private static readonly byte[] EdgeBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSource.Edge);

        public static ReadOnlySpan<byte> Transport => TransportBytes;
        public static ReadOnlySpan<byte> Ip => IpBytes;
        public static ReadOnlySpan<byte> Port => PortBytes;
        public static ReadOnlySpan<byte> Edge => EdgeBytes;
    }

    /// <summary>The fields of <c>syslog</c>.</summary>
    public static class OfSyslog
    {
        private static readonly byte[] FacilityBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.Facility);
        private static readonly byte[] SeverityBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.Severity);
        private static readonly byte[] VersionBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.Version);
        private static readonly byte[] TimestampBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.Timestamp);
        private static readonly byte[] HostnameBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.Hostname);
        private static readonly byte[] AppNameBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.AppName);
        private static readonly byte[] ProcidBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.Procid);
        private static readonly byte[] MsgidBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.Msgid);
        private static readonly byte[] StructuredDataBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.StructuredData);
        private static readonly byte[] RfcBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfSyslog.Rfc);

        public static ReadOnlySpan<byte> Facility => FacilityBytes;
        public static ReadOnlySpan<byte> Severity => SeverityBytes;
        public static ReadOnlySpan<byte> Version => VersionBytes;
        public static ReadOnlySpan<byte> Timestamp => TimestampBytes;
        public static ReadOnlySpan<byte> Hostname => HostnameBytes;
        public static ReadOnlySpan<byte> AppName => AppNameBytes;
        public static ReadOnlySpan<byte> Procid => ProcidBytes;
        public static ReadOnlySpan<byte> Msgid => MsgidBytes;
        public static ReadOnlySpan<byte> StructuredData => StructuredDataBytes;
        public static ReadOnlySpan<byte> Rfc => RfcBytes;
    }

    /// <summary>The fields of <c>stream</c>.</summary>
    public static class OfStream
    {
        private static readonly byte[] IdBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfStream.Id);
        private static readonly byte[] HeadersBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfStream.Headers);

        public static ReadOnlySpan<byte> Id => IdBytes;
        public static ReadOnlySpan<byte> Headers => HeadersBytes;
    }

    /// <summary>The fields of <c>metric</c>.</summary>
    public static class OfMetric
    {
        private static readonly byte[] NameBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfMetric.Name);
        private static readonly byte[] ValueBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfMetric.Value);
        private static readonly byte[] TypeBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfMetric.Type);
        private static readonly byte[] FamilyBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfMetric.Family);
        private static readonly byte[] UnitBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfMetric.Unit);
        private static readonly byte[] LabelsBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfMetric.Labels);
        private static readonly byte[] TimestampBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfMetric.Timestamp);
        private static readonly byte[] DeltaBytes = Encoding.UTF8.GetBytes(EnvelopeFields.OfMetric.Delta);

        public static ReadOnlySpan<byte> Name => NameBytes;
        public static ReadOnlySpan<byte> Value => ValueBytes;
        public static ReadOnlySpan<byte> Type => TypeBytes;
        public static ReadOnlySpan<byte> Family => FamilyBytes;
        public static ReadOnlySpan<byte> Unit => UnitBytes;
        public static ReadOnlySpan<byte> Labels => LabelsBytes;
        public static ReadOnlySpan<byte> Timestamp => TimestampBytes;
        public static ReadOnlySpan<byte> Delta => DeltaBytes;
    }
}
