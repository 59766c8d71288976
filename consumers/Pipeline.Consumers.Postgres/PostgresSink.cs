using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Pipeline.Kafka.Consuming;
using Pipeline.Postgres;

namespace Pipeline.Consumers.Postgres;

/// <summary>
/// Writes batches into <c>events</c> with one binary COPY in one transaction, together with the group's
/// offsets (exactly-once effect: rows and progress commit or roll back together, and on assignment the
/// consumer resumes from the stored offsets). Rows are also unique by event id: when a batch holds an id
/// the table already has (a replay or backfill into the same table), the batch is copied into a staging
/// table instead and only the rows not there yet are inserted, so a replayed range is skipped, never
/// duplicated.
/// </summary>
internal sealed partial class PostgresSink(NpgsqlDataSource dataSource, EventPartitions partitions, string group) : IBatchSink
{
    private const string Columns =
        "id, received_at, event_time, kind, host, app, facility, severity, message, source_ip, transport, edge, tenant, " +
        "sample_rate, stream_id, parse_status, payload, topic, kafka_partition, kafka_offset";

    public OffsetStorage OffsetStorage => OffsetStorage.Sink;

    public async Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> assigned, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var stored = await SinkOffsetStore.ReadAsync(connection, group, assigned.Select(p => (p.Topic, p.Partition)), cancellationToken);
        return stored.ToDictionary(s => new PartitionKey(s.Key.Topic, s.Key.Partition), s => s.Value);
    }

    public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> revoked, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        var rows = new List<EventRow>(batch.Records.Count);
        for (var i = 0; i < batch.Records.Count; i++)
        {
            var row = EventRow.From(batch.Records[i]);
            rows.Add(row);
            // The runtime reports the event's age (sender's clock to this commit) once the write succeeded.
            if (row.EventTime is { } eventTime) batch.NoteEventTime(i, new DateTimeOffset(DateTime.SpecifyKind(eventTime, DateTimeKind.Utc)));
        }
        await partitions.EnsureAsync(rows.Select(r => r.Day), cancellationToken);
        try
        {
            await WriteOnceAsync(batch, rows, deduplicate: false, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await WriteOnceAsync(batch, rows, deduplicate: true, cancellationToken);
        }
    }

    private async Task WriteOnceAsync(SinkBatch batch, List<EventRow> rows, bool deduplicate, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            if (rows.Count > 0)
            {
                var target = "events";
                if (deduplicate)
                {
                    target = "events_staging";
                    await connection.ExecuteAsync(new CommandDefinition(
                        "create temporary table events_staging (like events including defaults) on commit drop",
                        transaction: transaction, cancellationToken: cancellationToken));
                }
                await CopyAsync(connection, target, rows, cancellationToken);
                if (deduplicate)
                {
                    await connection.ExecuteAsync(new CommandDefinition(
                        $"insert into events ({Columns}) select {Columns} from events_staging on conflict (id, received_at) do nothing",
                        transaction: transaction, cancellationToken: cancellationToken));
                }
                await WriteStreamsAsync(connection, transaction, rows, cancellationToken);
            }
            await SinkOffsetStore.WriteAsync(connection, transaction, group,
                batch.NextOffsets.Select(o => (o.Key.Topic, o.Key.Partition, o.Value)), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException ex) when (IsDataError(ex))
        {
            throw Poison(batch, ex);
        }
    }

    /// <summary>
    /// One binary COPY of the batch. Text columns go out as the UTF-8 bytes they arrived in and the payload
    /// as the record itself. Columns are written synchronously into Npgsql's buffer (an await per column
    /// costs more than copying the value); a full buffer is then sent synchronously, bounded by the command
    /// timeout, while each row's start flushes asynchronously and observes cancellation.
    /// </summary>
    private static async Task CopyAsync(NpgsqlConnection connection, string table, List<EventRow> rows, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync($"copy {table} ({Columns}) from stdin (format binary)", cancellationToken);
        foreach (var r in rows)
        {
            await copy.StartRowAsync(cancellationToken);
            copy.Write(r.Id, NpgsqlDbType.Text);
            copy.Write(r.ReceivedAt, NpgsqlDbType.TimestampTz);
            WriteNullable(copy, r.EventTime, NpgsqlDbType.TimestampTz);
            copy.Write(r.Kind, NpgsqlDbType.Text);
            WriteText(copy, r.Host);
            WriteText(copy, r.App);
            WriteNullable(copy, r.Facility, NpgsqlDbType.Smallint);
            WriteNullable(copy, r.Severity, NpgsqlDbType.Smallint);
            WriteText(copy, r.Message);
            if (r.SourceIp is { } ip) copy.Write(ip, NpgsqlDbType.Inet);
            else copy.WriteNull();
            WriteText(copy, r.Transport);
            WriteText(copy, r.Edge);
            WriteText(copy, r.Tenant);
            copy.Write(r.SampleRate, NpgsqlDbType.Integer);
            WriteText(copy, r.StreamId);
            WriteText(copy, r.ParseStatus);
            copy.Write(r.Payload, NpgsqlDbType.Jsonb);
            copy.Write(r.Record.Topic, NpgsqlDbType.Text);
            copy.Write(r.Record.Partition, NpgsqlDbType.Integer);
            copy.Write(r.Record.Offset, NpgsqlDbType.Bigint);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    private static void WriteText(NpgsqlBinaryImporter copy, ReadOnlyMemory<byte>? utf8)
    {
        if (utf8 is { } value) copy.Write(value, NpgsqlDbType.Text);
        else copy.WriteNull();
    }

    private static void WriteNullable<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : struct
    {
        if (value is { } v) copy.Write(v, type);
        else copy.WriteNull();
    }

    private static Task WriteStreamsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<EventRow> rows, CancellationToken cancellationToken)
    {
        Dictionary<string, string>? streams = null;
        foreach (var r in rows)
        {
            if (EventRow.Text(r.StreamId) is not { } id) continue;
            streams ??= new Dictionary<string, string>(StringComparer.Ordinal);
            streams.TryAdd(id, EventRow.Text(r.StreamHeaders) ?? "{}");
        }
        if (streams is null) return Task.CompletedTask;
        return connection.ExecuteAsync(new CommandDefinition(
            "insert into streams (id, headers) select i, h::jsonb from unnest(@ids, @headers) as s(i, h) on conflict (id) do nothing",
            new { ids = streams.Keys.ToArray(), headers = streams.Values.ToArray() }, transaction, cancellationToken: cancellationToken));
    }

    // Class 22 (data exception) and 23 (integrity) say the data is at fault and retrying will not help;
    // anything else (connection lost, server shutting down) is the database being unavailable.
    internal static bool IsDataError(PostgresException ex) =>
        (ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal))
        && ex.SqlState != PostgresErrorCodes.UniqueViolation;

    /// <summary>COPY names the row it failed on ("COPY events, line 7"): that record is the poison; otherwise split.</summary>
    internal static Exception Poison(SinkBatch batch, PostgresException ex)
    {
        var reason = $"{ex.SqlState}: {ex.MessageText}";
        var line = CopyLine().Match(ex.Where ?? "");
        if (line.Success && int.TryParse(line.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= batch.Records.Count)
            return new PoisonRecordException(batch.Records[n - 1], reason, ex);
        return new PoisonBatchException(reason, ex);
    }

    [GeneratedRegex(@"COPY events\w*, line (\d+)")]
    private static partial Regex CopyLine();
}
