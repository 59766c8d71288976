namespace Pipeline.Core.Envelope;

/// <summary>
/// The v1 envelope's JSON property names (see docs/envelope.md): the one place they are spelled. The codec
/// (<see cref="TelemetryEvent"/>'s attributes), the edge's writer and every reader that walks the JSON itself take
/// them from here, so a writer and a reader cannot drift apart. Hot paths use the same names made once:
/// <see cref="EnvelopeJson"/> to write, <see cref="EnvelopeUtf8"/> to read.
/// </summary>
public static class EnvelopeFields
{
    public const string Id = "id";
    public const string ReceivedAt = "received_at";
    public const string Kind = "kind";
    public const string Source = "source";
    public const string Tenant = "tenant";
    public const string Tags = "tags";
    public const string SampleRate = "sample_rate";
    public const string Syslog = "syslog";
    public const string Message = "message";
    public const string Payload = "payload";
    public const string Stream = "stream";
    public const string Raw = "raw";
    public const string RawBase64 = "raw_b64";
    public const string Truncated = "truncated";
    public const string ParseStatus = "parse_status";
    public const string ParseError = "parse_error";
    public const string Metric = "metric";

    /// <summary>The fields of <c>source</c>.</summary>
    public static class OfSource
    {
        public const string Transport = "transport";
        public const string Ip = "ip";
        public const string Port = "port";
        public const string Edge = "edge";
    }

    /// <summary>The fields of <c>syslog</c>.</summary>
    public static class OfSyslog
    {
        public const string Facility = "facility";
        public const string Severity = "severity";
        public const string Version = "version";
        public const string Timestamp = "timestamp";
        public const string Hostname = "hostname";
        public const string AppName = "app_name";
        public const string Procid = "procid";
        public const string Msgid = "msgid";
        public const string StructuredData = "structured_data";
        public const string Rfc = "rfc";
    }

    /// <summary>The fields of <c>stream</c>.</summary>
    public static class OfStream
    {
        public const string Id = "id";
        public const string Headers = "headers";
    }

    /// <summary>The fields of <c>metric</c>.</summary>
    public static class OfMetric
    {
        public const string Name = "name";
        public const string Value = "value";
        public const string Type = "type";
        public const string Family = "family";
        public const string Unit = "unit";
        public const string Labels = "labels";
        public const string Timestamp = "timestamp";
        public const string Delta = "delta";
    }
}
