using System.Globalization;
using System.Net;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Pipeline.Consumers.Postgres;

namespace Pipeline.Bench;

/// <summary>
/// A row of the <c>events</c> table as plain .NET values, decoded before the clock starts for the NOC bench's
/// writers that are not the sink, with the two forms they send it in: INSERT parameters and a CSV line for COPY.
/// Both follow <see cref="Columns"/>, so they live beside it.
/// </summary>
internal sealed record PlainEventRow(
    string Id, DateTime ReceivedAt, DateTime? EventTime, string Kind, string? Host, string? App, short? Facility, short? Severity,
    string? Message, IPAddress? SourceIp, string? Transport, string? Edge, string? Tenant, int SampleRate, string? StreamId,
    string? ParseStatus, string Payload, string Topic, int Partition, long Offset)
{
    /// <summary>The columns in the order of the CSV fields and of the INSERT parameters.</summary>
    public const string Columns =
        "id, received_at, event_time, kind, host, app, facility, severity, message, source_ip, transport, edge, tenant, " +
        "sample_rate, stream_id, parse_status, payload, topic, kafka_partition, kafka_offset";

    public static PlainEventRow Of(EventRow r) => new(
        EventRow.Text(r.Id)!, r.ReceivedAt, r.EventTime, EventRow.Text(r.Kind)!, EventRow.Text(r.Host), EventRow.Text(r.App), r.Facility, r.Severity,
        EventRow.Text(r.Message), r.SourceIp, EventRow.Text(r.Transport), EventRow.Text(r.Edge), EventRow.Text(r.Tenant), r.SampleRate,
        EventRow.Text(r.StreamId), EventRow.Text(r.ParseStatus), EventRow.Text(r.Payload)!, r.Record.Topic, r.Record.Partition, r.Record.Offset);

    /// <summary>Adds this row's 20 parameters, in <see cref="Columns"/> order, to a multi-row INSERT.</summary>
    public void AddParameters(NpgsqlCommand command)
    {
        var p = command.Parameters;
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = Id });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = ReceivedAt });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = (object?)EventTime ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = Kind });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)Host ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)App ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Smallint, Value = (object?)Facility ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Smallint, Value = (object?)Severity ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)Message ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Inet, Value = (object?)SourceIp ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)Transport ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)Edge ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)Tenant ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = SampleRate });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)StreamId ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)ParseStatus ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = Payload });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = Topic });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = Partition });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = Offset });
    }

    /// <summary>The rows as CSV for COPY: every text quoted, NULL as an unquoted empty field.</summary>
    public static void WriteCsv(string path, List<PlainEventRow> rows)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20);
        var c = CultureInfo.InvariantCulture;
        foreach (var r in rows)
        {
            Text(writer, r.Id); writer.Write(',');
            writer.Write(r.ReceivedAt.ToString("yyyy-MM-dd HH:mm:ss.ffffff+00", c)); writer.Write(',');
            if (r.EventTime is { } t) writer.Write(t.ToString("yyyy-MM-dd HH:mm:ss.ffffff+00", c));
            writer.Write(',');
            Text(writer, r.Kind); writer.Write(',');
            Text(writer, r.Host); writer.Write(',');
            Text(writer, r.App); writer.Write(',');
            writer.Write(r.Facility?.ToString(c)); writer.Write(',');
            writer.Write(r.Severity?.ToString(c)); writer.Write(',');
            Text(writer, r.Message); writer.Write(',');
            writer.Write(r.SourceIp?.ToString()); writer.Write(',');
            Text(writer, r.Transport); writer.Write(',');
            Text(writer, r.Edge); writer.Write(',');
            Text(writer, r.Tenant); writer.Write(',');
            writer.Write(r.SampleRate.ToString(c)); writer.Write(',');
            Text(writer, r.StreamId); writer.Write(',');
            Text(writer, r.ParseStatus); writer.Write(',');
            Text(writer, r.Payload); writer.Write(',');
            Text(writer, r.Topic); writer.Write(',');
            writer.Write(r.Partition.ToString(c)); writer.Write(',');
            writer.Write(r.Offset.ToString(c));
            writer.Write('\n');
        }

        static void Text(StreamWriter writer, string? value)
        {
            if (value is null) return;
            writer.Write('"');
            writer.Write(value.Replace("\"", "\"\"", StringComparison.Ordinal));
            writer.Write('"');
        }
    }
}
