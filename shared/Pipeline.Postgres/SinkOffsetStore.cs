using Dapper;
using Npgsql;

namespace Pipeline.Postgres;

/// <summary>
/// The <c>consumer_offsets</c> table: where an exactly-once sink's group stands per partition. Writes go
/// inside the sink's own transaction, so data and progress commit or roll back together.
/// </summary>
public static class SinkOffsetStore
{
    /// <summary>Stored next offsets of <paramref name="group"/> for the given partitions (absent: nothing stored).</summary>
    public static async Task<Dictionary<(string Topic, int Partition), long>> ReadAsync(NpgsqlConnection connection, string group,
        IEnumerable<(string Topic, int Partition)> partitions, CancellationToken cancellationToken)
    {
        var list = partitions.ToList();
        var rows = await connection.QueryAsync<(string Topic, int Partition, long NextOffset)>(new CommandDefinition("""
            select o.topic, o.partition, o.next_offset
            from consumer_offsets o
            join unnest(@topics, @partitions) as p(topic, partition) using (topic, partition)
            where o.group_id = @group
            """, new { group, topics = list.Select(p => p.Topic).ToArray(), partitions = list.Select(p => p.Partition).ToArray() },
            cancellationToken: cancellationToken));
        return rows.ToDictionary(r => (r.Topic, r.Partition), r => r.NextOffset);
    }

    /// <summary>Every stored position of a group.</summary>
    public static async Task<IReadOnlyList<(string Topic, int Partition, long NextOffset)>> ReadAllAsync(NpgsqlConnection connection, string group, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<(string Topic, int Partition, long NextOffset)>(new CommandDefinition(
            "select topic, partition, next_offset from consumer_offsets where group_id = @group order by topic, partition",
            new { group }, cancellationToken: cancellationToken))).ToList();

    /// <summary>Stores next offsets inside <paramref name="transaction"/>.</summary>
    public static Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string group,
        IEnumerable<(string Topic, int Partition, long NextOffset)> offsets, CancellationToken cancellationToken)
    {
        var list = offsets.ToList();
        if (list.Count == 0) return Task.CompletedTask;
        return connection.ExecuteAsync(new CommandDefinition("""
            insert into consumer_offsets (group_id, topic, partition, next_offset)
            select @group, t, p, o from unnest(@topics, @partitions, @offsets) as x(t, p, o)
            on conflict (group_id, topic, partition) do update set next_offset = excluded.next_offset, updated_at = now()
            """, new
        {
            group,
            topics = list.Select(o => o.Topic).ToArray(),
            partitions = list.Select(o => o.Partition).ToArray(),
            offsets = list.Select(o => o.NextOffset).ToArray(),
        }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>Sets (or with a null offset, forgets) positions of a group: the reset of an exactly-once sink.</summary>
    public static async Task<int> ResetAsync(NpgsqlConnection connection, string group, IEnumerable<(string Topic, int Partition, long? NextOffset)> positions, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = 0;
        foreach (var (topic, partition, next) in positions)
        {
            changed += next is { } offset
                ? await connection.ExecuteAsync(new CommandDefinition("""
                    insert into consumer_offsets (group_id, topic, partition, next_offset) values (@group, @topic, @partition, @offset)
                    on conflict (group_id, topic, partition) do update set next_offset = excluded.next_offset, updated_at = now()
                    """, new { group, topic, partition, offset }, transaction, cancellationToken: cancellationToken))
                : await connection.ExecuteAsync(new CommandDefinition(
                    "delete from consumer_offsets where group_id = @group and topic = @topic and partition = @partition",
                    new { group, topic, partition }, transaction, cancellationToken: cancellationToken));
        }
        await transaction.CommitAsync(cancellationToken);
        return changed;
    }
}
