using System.Net;
using System.Text;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Postgres;

/// <summary>One row of <c>events</c>, read from one record.</summary>
internal sealed record EventRow(
    string Id, DateTime ReceivedAt, DateTime? EventTime, string Kind, string? Host, string? App, short? Facility, short? Severity,
    string? Message, IPAddress? SourceIp, string? Transport, string? Edge, string? Tenant, int SampleRate, string? StreamId,
    string? ParseStatus, string Payload, string Topic, int Partition, long Offset, StreamInfo? Stream)
{
    /// <summary>Reads a record; one that is not a v1 envelope is a poison record.</summary>
    public static EventRow From(ConsumedRecord record)
    {
        TelemetryEvent e;
        try
        {
            e = EnvelopeCodec.Decode(record.Value);
        }
        catch (EnvelopeFormatException ex)
        {
            throw new PoisonRecordException(record, ex.Message, ex);
        }
        var syslog = e.Syslog;
        return new EventRow(
            e.Id,
            e.ReceivedAt.UtcDateTime,
            syslog?.Timestamp?.UtcDateTime,
            e.Kind,
            syslog?.Hostname,
            syslog?.AppName,
            (short?)syslog?.Facility,
            (short?)syslog?.Severity,
            e.Message,
            IPAddress.TryParse(e.Source.Ip, out var ip) ? ip : null,
            e.Source.Transport,
            e.Source.Edge,
            e.Tenant,
            e.SampleRate,
            e.Stream?.Id,
            e.ParseStatus,
            Encoding.UTF8.GetString(record.Value),
            record.Topic,
            record.Partition,
            record.Offset,
            e.Stream);
    }
}
