using Npgsql;
using NpgsqlTypes;

namespace Pipeline.Consumers.Postgres;

/// <summary>The <c>metrics</c> table: one row per metric event, written by binary COPY as <c>events</c> is.</summary>
internal static class MetricTable
{
    public const string Columns = "id, received_at, time, name, type, labels, value, tenant, edge, topic, kafka_partition, kafka_offset";

    private static readonly ReadOnlyMemory<byte> NoLabels = "{}"u8.ToArray();

    /// <summary>One binary COPY of the batch's metric rows into <paramref name="table"/> (the table or its staging copy).</summary>
    public static async Task CopyAsync(NpgsqlConnection connection, string table, List<EventRow> rows, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync($"copy {table} ({Columns}) from stdin (format binary)", cancellationToken);
        foreach (var r in rows)
        {
            var metric = r.Metric!;
            await copy.StartRowAsync(cancellationToken);
            copy.Write(r.Id, NpgsqlDbType.Text);
            copy.Write(r.ReceivedAt, NpgsqlDbType.TimestampTz);
            copy.Write(metric.Time ?? r.ReceivedAt, NpgsqlDbType.TimestampTz);
            copy.Write(metric.Name, NpgsqlDbType.Text);
            copy.Write(metric.Type, NpgsqlDbType.Text);
            copy.Write(metric.Labels ?? NoLabels, NpgsqlDbType.Jsonb);
            copy.Write(metric.Value, NpgsqlDbType.Double);
            PostgresSink.WriteText(copy, r.Tenant);
            PostgresSink.WriteText(copy, r.Edge);
            copy.Write(r.Record.Topic, NpgsqlDbType.Text);
            copy.Write(r.Record.Partition, NpgsqlDbType.Integer);
            copy.Write(r.Record.Offset, NpgsqlDbType.Bigint);
        }
        await copy.CompleteAsync(cancellationToken);
    }
}
