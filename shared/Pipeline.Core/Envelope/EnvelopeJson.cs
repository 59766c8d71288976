using System.Text.Json;

namespace Pipeline.Core.Envelope;

/// <summary>
/// <see cref="EnvelopeFields"/> encoded once as JSON property names, for a <see cref="Utf8JsonWriter"/> (no escaping
/// check per write).
/// </summary>
public static class EnvelopeJson
{
    public static readonly JsonEncodedText Id = JsonEncodedText.Encode(EnvelopeFields.Id);
    public static readonly JsonEncodedText ReceivedAt = JsonEncodedText.Encode(EnvelopeFields.ReceivedAt);
    public static readonly JsonEncodedText Kind = JsonEncodedText.Encode(EnvelopeFields.Kind);
    public static readonly JsonEncodedText Source = JsonEncodedText.Encode(EnvelopeFields.Source);
    public static readonly JsonEncodedText Tenant = JsonEncodedText.Encode(EnvelopeFields.Tenant);
    public static readonly JsonEncodedText Tags = JsonEncodedText.Encode(EnvelopeFields.Tags);
    public static readonly JsonEncodedText SampleRate = JsonEncodedText.Encode(EnvelopeFields.SampleRate);
    public static readonly JsonEncodedText Syslog = JsonEncodedText.Encode(EnvelopeFields.Syslog);
    public static readonly JsonEncodedText Message = JsonEncodedText.Encode(EnvelopeFields.Message);
    public static readonly JsonEncodedText Payload = JsonEncodedText.Encode(EnvelopeFields.Payload);
    public static readonly JsonEncodedText Stream = JsonEncodedText.Encode(EnvelopeFields.Stream);
    public static readonly JsonEncodedText Raw = JsonEncodedText.Encode(EnvelopeFields.Raw);
    public static readonly JsonEncodedText RawBase64 = JsonEncodedText.Encode(EnvelopeFields.RawBase64);
    public static readonly JsonEncodedText Truncated = JsonEncodedText.Encode(EnvelopeFields.Truncated);
    public static readonly JsonEncodedText ParseStatus = JsonEncodedText.Encode(EnvelopeFields.ParseStatus);
    public static readonly JsonEncodedText ParseError = JsonEncodedText.Encode(EnvelopeFields.ParseError);
    public static readonly JsonEncodedText Metric = JsonEncodedText.Encode(EnvelopeFields.Metric);

    /// <summary>The fields of <c>source</c>.</summary>
    public static class OfSource
    {
        public static readonly JsonEncodedText Transport = JsonEncodedText.Encode(EnvelopeFields.OfSource.Transport);
        public static readonly JsonEncodedText Ip = JsonEncodedText.Encode(EnvelopeFields.OfSource.Ip);
        public static readonly JsonEncodedText Port = JsonEncodedText.Encode(EnvelopeFields.OfSource.Port);
        public static readonly JsonEncodedText Edge = JsonEncodedText.Encode(EnvelopeFields.OfSource.Edge);
    }

    /// <summary>The fields of <c>syslog</c>.</summary>
    public static class OfSyslog
    {
        public static readonly JsonEncodedText Facility = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Facility);
        public static readonly JsonEncodedText Severity = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Severity);
        public static readonly JsonEncodedText Version = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Version);
        public static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Timestamp);
        public static readonly JsonEncodedText Hostname = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Hostname);
        public static readonly JsonEncodedText AppName = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.AppName);
        public static readonly JsonEncodedText Procid = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Procid);
        public static readonly JsonEncodedText Msgid = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Msgid);
        public static readonly JsonEncodedText StructuredData = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.StructuredData);
        public static readonly JsonEncodedText Rfc = JsonEncodedText.Encode(EnvelopeFields.OfSyslog.Rfc);
    }

    /// <summary>The fields of <c>stream</c>.</summary>
    public static class OfStream
    {
        public static readonly JsonEncodedText Id = JsonEncodedText.Encode(EnvelopeFields.OfStream.Id);
        public static readonly JsonEncodedText Headers = JsonEncodedText.Encode(EnvelopeFields.OfStream.Headers);
    }

    /// <summary>The fields of <c>metric</c>.</summary>
    public static class OfMetric
    {
        public static readonly JsonEncodedText Name = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Name);
        public static readonly JsonEncodedText Value = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Value);
        public static readonly JsonEncodedText Type = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Type);
        public static readonly JsonEncodedText Family = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Family);
        public static readonly JsonEncodedText Unit = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Unit);
        public static readonly JsonEncodedText Labels = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Labels);
        public static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Timestamp);
        public static readonly JsonEncodedText Delta = JsonEncodedText.Encode(EnvelopeFields.OfMetric.Delta);
    }
}
