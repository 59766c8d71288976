using System.Globalization;
using Dapper;
using Npgsql;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Kafka.Consuming;
using Pipeline.Postgres;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// The aggregator's checkpoints in PostgreSQL (migrations/topk): partial sketches per window, dimension and
/// source partition, the partitions' clocks and ownership epochs, late counts — and, in the same
/// transaction, the group's offsets in <c>consumer_offsets</c>. What is stored is read for answers, published
/// and expired by <see cref="StoredWindows"/>. Only parameterised SQL.
/// </summary>
internal sealed class TopKStore(NpgsqlDataSource dataSource, string group)
{
    public string Group => group;

    /// <summary>
    /// Loads the checkpoint of <paramref name="partitions"/>. With <paramref name="claim"/> (an assignment)
    /// the ownership epoch of each goes up by one, which fences off any member still writing with the old
    /// one. Without it (a reload after a failed write) the epochs are only read, and a partition whose
    /// epoch is not <paramref name="expectedEpochs"/>' is left out: someone else owns it now.
    /// </summary>
    public async Task<IReadOnlyList<StoredPartition>> LoadAsync(IReadOnlyCollection<PartitionKey> partitions, bool claim,
        IReadOnlyDictionary<PartitionKey, long>? expectedEpochs, CancellationToken cancellationToken)
    {
        if (partitions.Count == 0) return [];
        var topics = partitions.Select(p => p.Topic).ToArray();
        var numbers = partitions.Select(p => p.Partition).ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var sql = claim
            ? """
              insert into topk_partitions (group_id, topic, partition)
              select @group, t, p from unnest(@topics, @numbers) as x(t, p)
              on conflict (group_id, topic, partition) do update set epoch = topk_partitions.epoch + 1, updated_at = now()
              returning topic, partition, epoch, watermark
              """
            : """
              select o.topic, o.partition, o.epoch, o.watermark from topk_partitions o
              join unnest(@topics, @numbers) as x(t, p) on o.topic = x.t and o.partition = x.p
              where o.group_id = @group
              """;
        var owners = (await connection.QueryAsync<(string Topic, int Partition, long Epoch, DateTime? Watermark)>(
            new CommandDefinition(sql, new { group, topics, numbers }, transaction, cancellationToken: cancellationToken)))
            .ToDictionary(r => new PartitionKey(r.Topic, r.Partition));

        var offsets = await SinkOffsetStore.ReadAsync(connection, group, partitions.Select(p => (p.Topic, p.Partition)), cancellationToken);

        var closed = (await connection.QueryAsync<(string Topic, int Partition, int GranularityS, DateTime ClosedThrough)>(new CommandDefinition("""
            select c.topic, c.partition, c.granularity_s, c.closed_through from topk_closed_through c
            join unnest(@topics, @numbers) as x(t, p) on c.topic = x.t and c.partition = x.p
            where c.group_id = @group
            """, new { group, topics, numbers }, transaction, cancellationToken: cancellationToken)))
            .ToLookup(r => new PartitionKey(r.Topic, r.Partition));

        var open = (await connection.QueryAsync<(string Topic, int Partition, int GranularityS, DateTime WindowStart, string Dimension, long Events, byte[] Sketch)>(
            new CommandDefinition("""
            select w.topic, w.partition, w.granularity_s, w.window_start, w.dimension, w.events, w.sketch from topk_windows w
            join unnest(@topics, @numbers) as x(t, p) on w.topic = x.t and w.partition = x.p
            where w.group_id = @group and w.closed_at is null
            """, new { group, topics, numbers }, transaction, cancellationToken: cancellationToken)))
            .ToLookup(r => new PartitionKey(r.Topic, r.Partition));

        await transaction.CommitAsync(cancellationToken);

        var result = new List<StoredPartition>();
        foreach (var key in partitions)
        {
            var owner = owners.GetValueOrDefault(key);
            if (!claim)
            {
                // Never seen before (no row) is fine on a reload only if we never stored anything either.
                var expected = expectedEpochs?.GetValueOrDefault(key) ?? 0;
                if ((owners.ContainsKey(key) ? owner.Epoch : 0) != expected) continue;
            }
            result.Add(new StoredPartition(
                key,
                offsets.TryGetValue((key.Topic, key.Partition), out var next) ? next : null,
                owners.ContainsKey(key) ? owner.Epoch : 0,
                owner.Watermark is { } w ? Utc(w) : null,
                closed[key].ToDictionary(c => c.GranularityS, c => Utc(c.ClosedThrough)),
                open[key].Select(o => new StoredPartial(o.GranularityS, Utc(o.WindowStart), o.Dimension, o.Events, o.Sketch)).ToList()));
        }
        return result;
    }

    /// <summary>
    /// Stores one checkpoint in one transaction: partial sketches (open or closed), late counts, partition
    /// clocks and offsets. A partition whose stored epoch is not the one this member holds was taken over:
    /// nothing of it is written, and it is returned so the caller can drop it.
    /// </summary>
    public async Task<IReadOnlySet<PartitionKey>> CheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        var fenced = new HashSet<PartitionKey>();
        if (checkpoint.IsEmpty) return fenced;
        var epochs = checkpoint.Progress.GroupBy(p => p.Partition).ToDictionary(g => g.Key, g => g.First().Epoch);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Its id, should the commit get no answer (see CommittedAsync).
        var id = ulong.Parse(await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "select pg_current_xact_id()::text", transaction: transaction, cancellationToken: cancellationToken)) ?? "0", CultureInfo.InvariantCulture);

        // Lock the partitions' ownership rows: an assignment elsewhere waits for this transaction, or we see its epoch.
        var stored = (await connection.QueryAsync<(string Topic, int Partition, long Epoch)>(new CommandDefinition("""
            select o.topic, o.partition, o.epoch from topk_partitions o
            join unnest(@topics, @numbers) as x(t, p) on o.topic = x.t and o.partition = x.p
            where o.group_id = @group
            for update of o
            """, new { group, topics = epochs.Keys.Select(k => k.Topic).ToArray(), numbers = epochs.Keys.Select(k => k.Partition).ToArray() },
            transaction, cancellationToken: cancellationToken))).ToDictionary(r => new PartitionKey(r.Topic, r.Partition), r => r.Epoch);
        foreach (var (key, epoch) in epochs)
            if (stored.GetValueOrDefault(key) != epoch) fenced.Add(key);

        var partials = checkpoint.Partials.Where(p => epochs.ContainsKey(p.Partition) && !fenced.Contains(p.Partition)).ToList();
        if (partials.Count > 0)
        {
            // A closed row is final: a later write never reopens or changes it.
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into topk_windows (group_id, granularity_s, window_start, dimension, topic, partition, events, total, capacity, sketch, closed_at)
                select @group, g, s, d, t, p, e, n, c, k, case when x.closed then @at else null end
                from unnest(@granularities, @starts, @dimensions, @topics, @numbers, @events, @totals, @capacities, @sketches, @closed)
                    as x(g, s, d, t, p, e, n, c, k, closed)
                on conflict (group_id, granularity_s, window_start, dimension, topic, partition) do update
                set events = excluded.events, total = excluded.total, capacity = excluded.capacity, sketch = excluded.sketch,
                    closed_at = excluded.closed_at, updated_at = now()
                where topk_windows.closed_at is null
                """, new
            {
                group,
                at = checkpoint.At.UtcDateTime,
                granularities = partials.Select(p => p.GranularitySeconds).ToArray(),
                starts = partials.Select(p => p.WindowStart.UtcDateTime).ToArray(),
                dimensions = partials.Select(p => p.Dimension).ToArray(),
                topics = partials.Select(p => p.Partition.Topic).ToArray(),
                numbers = partials.Select(p => p.Partition.Partition).ToArray(),
                events = partials.Select(p => p.Events).ToArray(),
                totals = partials.Select(p => p.Total).ToArray(),
                capacities = partials.Select(p => p.Capacity).ToArray(),
                sketches = partials.Select(p => p.Sketch).ToArray(),
                closed = partials.Select(p => p.Closed).ToArray(),
            }, transaction, cancellationToken: cancellationToken));
        }

        var late = checkpoint.Late.Where(l => !fenced.Contains(l.Partition)).ToList();
        if (late.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into topk_late (group_id, granularity_s, window_start, topic, partition, late_events)
                select @group, g, s, t, p, n from unnest(@granularities, @starts, @topics, @numbers, @weights) as x(g, s, t, p, n)
                on conflict (group_id, granularity_s, window_start, topic, partition) do update
                set late_events = topk_late.late_events + excluded.late_events
                """, new
            {
                group,
                granularities = late.Select(l => l.GranularitySeconds).ToArray(),
                starts = late.Select(l => l.WindowStart.UtcDateTime).ToArray(),
                topics = late.Select(l => l.Partition.Topic).ToArray(),
                numbers = late.Select(l => l.Partition.Partition).ToArray(),
                weights = late.Select(l => l.Weight).ToArray(),
            }, transaction, cancellationToken: cancellationToken));
        }

        var progress = checkpoint.Progress.Where(p => !fenced.Contains(p.Partition)).ToList();
        var partitions = progress.DistinctBy(p => p.Partition).ToList();
        if (partitions.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                update topk_partitions o set watermark = x.w, updated_at = now()
                from unnest(@topics, @numbers, @watermarks) as x(t, p, w)
                where o.group_id = @group and o.topic = x.t and o.partition = x.p
                """, new
            {
                group,
                topics = partitions.Select(p => p.Partition.Topic).ToArray(),
                numbers = partitions.Select(p => p.Partition.Partition).ToArray(),
                // As offsets, not DateTimes: the driver types a DateTime array by its first element, and a null there
                // (a partition with no watermark yet) beside UTC values is refused; a DateTimeOffset is always timestamptz.
                watermarks = partitions.Select(p => p.Watermark?.ToUniversalTime()).ToArray(),
            }, transaction, cancellationToken: cancellationToken));
            var through = progress.Where(p => p.ClosedThrough is not null).ToList();
            if (through.Count > 0)
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    insert into topk_closed_through (group_id, topic, partition, granularity_s, closed_through)
                    select @group, t, p, g, c from unnest(@topics, @numbers, @granularities, @closed) as x(t, p, g, c)
                    on conflict (group_id, topic, partition, granularity_s) do update set closed_through = excluded.closed_through
                    """, new
                {
                    group,
                    topics = through.Select(p => p.Partition.Topic).ToArray(),
                    numbers = through.Select(p => p.Partition.Partition).ToArray(),
                    granularities = through.Select(p => p.GranularitySeconds).ToArray(),
                    closed = through.Select(p => p.ClosedThrough!.Value.UtcDateTime).ToArray(),
                }, transaction, cancellationToken: cancellationToken));
            }
            await SinkOffsetStore.WriteAsync(connection, transaction, group,
                partitions.Where(p => p.NextOffset >= 0).Select(p => (p.Partition.Topic, p.Partition.Partition, p.NextOffset)), cancellationToken);
        }
        try
        {
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            throw new CheckpointInDoubtException(id, ex);
        }
        return fenced;
    }

    /// <summary>
    /// Whether the checkpoint transaction <paramref name="transaction"/> committed (PostgreSQL keeps every
    /// transaction's outcome for this: <c>pg_xact_status</c>); null while the server cannot say yet.
    /// </summary>
    public async Task<bool?> CommittedAsync(ulong transaction, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var status = await connection.ExecuteScalarAsync<string?>(new CommandDefinition("select pg_xact_status(@transaction::xid8)",
            new { transaction = transaction.ToString(CultureInfo.InvariantCulture) }, cancellationToken: cancellationToken));
        return status switch { "committed" => true, "aborted" => false, _ => null };
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

/// <summary>
/// A checkpoint's commit failed without an answer (the connection broke while committing): it may have been
/// stored. <see cref="TopKStore.CommittedAsync"/> tells, given <see cref="Transaction"/>.
/// </summary>
internal sealed class CheckpointInDoubtException(ulong transaction, Exception inner)
    : Exception($"checkpoint transaction {transaction}: the commit got no answer", inner)
{
    public ulong Transaction { get; } = transaction;
}
