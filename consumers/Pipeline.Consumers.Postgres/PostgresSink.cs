using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Pipeline.Kafka.Consuming;
using Pipeline.Postgres;

namespace Pipeline.Consumers.Postgres;

/// <summary>
/// Writes batches into <c>events</c> — and their metric events into <c>metrics</c> — with binary COPY in one
/// transaction, together with the group's offsets (exactly-once effect: rows and progress commit or roll back together, and on assignment the
/// consumer resumes from the stored offsets). Rows are also unique by event id: when a batch holds an id
/// the table already has (a replay or backfill into the same table), the batch is copied into a staging
/// table instead and only the rows not there yet are inserted, so a replayed range is skipped, never
/// duplicated. A large batch is written in parts of whole partitions on several connections at once
/// (<see cref="PostgresOptions.WriteConnections"/>), each part with its partitions' offsets in its own transaction;
/// when one part fails after another committed, the runtime writes the batch again and the committed part's rows
/// are skipped as above.
/// </summary>
internal sealed partial class PostgresSink(NpgsqlDataSource dataSource, EventPartitions partitions, MetricPartitions metricPartitions, string group,
    PostgresOptions? options = null) : IBatchSink
{
    private readonly PostgresOptions _options = options ?? new PostgresOptions();

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
        var events = new List<EventRow>(batch.Records.Count);
        var metrics = new List<EventRow>();
        for (var i = 0; i < batch.Records.Count; i++)
        {
            var row = EventRow.From(batch.Records[i]);
            (row.IsMetric ? metrics : events).Add(row);
            // The runtime reports the event's age (sender's clock to this commit) once the write succeeded.
            if (row.EventTime is { } eventTime) batch.NoteEventTime(i, new DateTimeOffset(DateTime.SpecifyKind(eventTime, DateTimeKind.Utc)));
        }
        await partitions.EnsureAsync(events.Select(r => r.Day), cancellationToken);
        await metricPartitions.EnsureAsync(metrics.Select(r => r.Day), cancellationToken);
        var parts = BatchParts.Split(events, metrics, batch.NextOffsets, _options.WriteConnections, _options.RowsPerConnection);
        if (parts.Count == 1) await WritePartAsync(parts[0], cancellationToken);
        else await Task.WhenAll(parts.Select(part => WritePartAsync(part, cancellationToken)));
    }

    private async Task WritePartAsync(BatchPart part, CancellationToken cancellationToken)
    {
        try
        {
            await WriteOnceAsync(part, deduplicate: false, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await WriteOnceAsync(part, deduplicate: true, cancellationToken);
        }
    }

    private async Task WriteOnceAsync(BatchPart part, bool deduplicate, CancellationToken cancellationToken)
    {
        var (events, metrics) = (part.Events, part.Metrics);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            if (events.Count > 0)
            {
                await CopyInto(connection, transaction, "events", Columns, deduplicate, table => CopyAsync(connection, table, events, cancellationToken), cancellationToken);
                await WriteStreamsAsync(connection, transaction, events, cancellationToken);
            }
            if (metrics.Count > 0)
            {
                await CopyInto(connection, transaction, "metrics", MetricTable.Columns, deduplicate,
                    table => MetricTable.CopyAsync(connection, table, metrics, cancellationToken), cancellationToken);
            }
            await SinkOffsetStore.WriteAsync(connection, transaction, group, part.Offsets, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException ex) when (IsDataError(ex))
        {
            throw Poison(events.Select(r => r.Record).ToList(), metrics.Select(r => r.Record).ToList(), ex);
        }
    }

    /// <summary>
    /// COPYs rows into <paramref name="table"/>; when <paramref name="deduplicate"/>, into a staging copy of it
    /// first, then inserts only the ids the table does not have yet (a replayed range is skipped, not doubled).
    /// </summary>
    private static async Task CopyInto(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, string columns, bool deduplicate,
        Func<string, Task> copy, CancellationToken cancellationToken)
    {
        if (!deduplicate)
        {
            await copy(table);
            return;
        }
        // Table names are constants of this sink, never input.
        var staging = table + "_staging";
        await connection.ExecuteAsync(new CommandDefinition(
            $"create temporary table {staging} (like {table} including defaults) on commit drop",
            transaction: transaction, cancellationToken: cancellationToken));
        await copy(staging);
        await connection.ExecuteAsync(new CommandDefinition(
            $"insert into {table} ({columns}) select {columns} from {staging} on conflict (id, received_at) do nothing",
            transaction: transaction, cancellationToken: cancellationToken));
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

    internal static void WriteText(NpgsqlBinaryImporter copy, ReadOnlyMemory<byte>? utf8)
    {
        if (utf8 is { } value) copy.Write(value, NpgsqlDbType.Text);
        else copy.WriteNull();
    }

    internal static void WriteNullable<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : struct
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
        // In one order for every part written at once: two transactions inserting the same streams take their
        // keys' locks in the same order, so one waits for the other instead of deadlocking.
        var ordered = streams.OrderBy(s => s.Key, StringComparer.Ordinal).ToArray();
        return connection.ExecuteAsync(new CommandDefinition(
            "insert into streams (id, headers) select i, h::jsonb from unnest(@ids, @headers) with ordinality as s(i, h, n) order by n on conflict (id) do nothing",
            new { ids = ordered.Select(s => s.Key).ToArray(), headers = ordered.Select(s => s.Value).ToArray() }, transaction, cancellationToken: cancellationToken));
    }

    // Class 22 (data exception) and 23 (integrity) say the data is at fault and retrying will not help;
    // anything else (connection lost, server shutting down) is the database being unavailable.
    internal static bool IsDataError(PostgresException ex) =>
        (ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal))
        && ex.SqlState != PostgresErrorCodes.UniqueViolation;

    /// <summary>A batch of events only: see <see cref="Poison(IReadOnlyList{ConsumedRecord}, IReadOnlyList{ConsumedRecord}, PostgresException)"/>.</summary>
    internal static Exception Poison(SinkBatch batch, PostgresException ex) => Poison(batch.Records, [], ex);

    /// <summary>
    /// COPY names the table and row it failed on ("COPY events, line 7", "COPY metrics_staging, line 2"): that
    /// record is the poison; otherwise the batch is, and the runtime splits it.
    /// </summary>
    internal static Exception Poison(IReadOnlyList<ConsumedRecord> events, IReadOnlyList<ConsumedRecord> metrics, PostgresException ex)
    {
        var reason = $"{ex.SqlState}: {ex.MessageText}";
        var line = CopyLine().Match(ex.Where ?? "");
        var rows = line.Success && line.Groups[1].Value == "metrics" ? metrics : events;
        if (line.Success && int.TryParse(line.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= rows.Count)
            return new PoisonRecordException(rows[n - 1], reason, ex);
        return new PoisonBatchException(reason, ex);
    }

    [GeneratedRegex(@"COPY (events|metrics)\w*, line (\d+)")]
    private static partial Regex CopyLine();
}
