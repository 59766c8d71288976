using Dapper;
using Npgsql;

namespace Pipeline.Consumers.TopK;

/// <summary>A stored partial of one window and dimension, as the query and the publisher read it.</summary>
internal sealed record StoredWindowPart(string Topic, int Partition, long Events, long Total, int Capacity, byte[] Sketch, bool Closed);

/// <summary>A window and dimension with closed partials not yet published.</summary>
internal readonly record struct PendingWindow(int GranularitySeconds, DateTimeOffset WindowStart, string Dimension);

/// <summary>
/// The stored windows as the rest of the aggregator reads them, apart from the checkpoints that write them
/// (<see cref="TopKStore"/>): a window's partials for an answer, the windows stored, the closed windows not yet
/// published (taken, handed over and marked in one transaction), and retention. Only parameterised SQL.
/// </summary>
internal sealed class StoredWindows(NpgsqlDataSource dataSource, string group)
{
    public string Group => group;

    /// <summary>Every stored partial of one window and dimension (open and closed), and the late weight of the window.</summary>
    public async Task<(IReadOnlyList<StoredWindowPart> Parts, long Late)> ReadWindowAsync(int granularitySeconds, DateTimeOffset windowStart, string dimension,
        bool closedOnly, CancellationToken cancellationToken, NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null)
    {
        var own = connection is null;
        connection ??= await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var args = new { group, g = granularitySeconds, s = windowStart.UtcDateTime, d = dimension, closedOnly };
            var parts = (await connection.QueryAsync<(string Topic, int Partition, long Events, long Total, int Capacity, byte[] Sketch, bool Closed)>(new CommandDefinition("""
                select topic, partition, events, total, capacity, sketch, closed_at is not null from topk_windows
                where group_id = @group and granularity_s = @g and window_start = @s and dimension = @d
                  and (not @closedOnly or closed_at is not null)
                order by topic, partition
                """, args, transaction, cancellationToken: cancellationToken)))
                .Select(r => new StoredWindowPart(r.Topic, r.Partition, r.Events, r.Total, r.Capacity, r.Sketch, r.Closed)).ToList();
            var late = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
                select coalesce(sum(late_events), 0)::bigint from topk_late where group_id = @group and granularity_s = @g and window_start = @s
                """, args, transaction, cancellationToken: cancellationToken));
            return (parts, late);
        }
        finally
        {
            if (own) await connection.DisposeAsync();
        }
    }

    /// <summary>The windows (start times) of one size and dimension that have any stored partial, newest first.</summary>
    public async Task<IReadOnlyList<DateTimeOffset>> ListWindowsAsync(int granularitySeconds, string dimension, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<DateTime>(new CommandDefinition("""
            select distinct window_start from topk_windows where group_id = @group and granularity_s = @g and dimension = @d
            order by window_start desc limit @limit
            """, new { group, g = granularitySeconds, d = dimension, limit }, cancellationToken: cancellationToken))).Select(Utc).ToList();
    }

    /// <summary>
    /// Publishes pending windows: in one transaction, takes up to <paramref name="limit"/> windows with closed,
    /// unpublished partials (rows another member is publishing are skipped, not waited for), hands them with
    /// every closed partial of each to <paramref name="publish"/>, and marks the partials of the windows it
    /// reports delivered as published. The others stay pending and are tried again next time.
    /// </summary>
    public async Task<int> PublishPendingAsync(int limit,
        Func<IReadOnlyList<(PendingWindow Window, IReadOnlyList<StoredWindowPart> Parts, long Late)>, Task<IReadOnlyList<PendingWindow>>> publish,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(int GranularityS, DateTime WindowStart, string Dimension)>(new CommandDefinition("""
            select granularity_s, window_start, dimension from topk_windows
            where group_id = @group and closed_at is not null and published_at is null
            order by window_start, granularity_s, dimension
            limit @limit
            for update skip locked
            """, new { group, limit = limit * 16 }, transaction, cancellationToken: cancellationToken))).ToList();
        if (rows.Count == 0) return 0;
        var windows = rows.Select(r => new PendingWindow(r.GranularityS, Utc(r.WindowStart), r.Dimension)).Distinct().Take(limit).ToList();
        var batch = new List<(PendingWindow, IReadOnlyList<StoredWindowPart>, long)>();
        foreach (var window in windows)
        {
            var (parts, late) = await ReadWindowAsync(window.GranularitySeconds, window.WindowStart, window.Dimension, closedOnly: true,
                cancellationToken, connection, transaction);
            batch.Add((window, parts, late));
        }
        var delivered = (await publish(batch)).ToHashSet();
        foreach (var (window, parts, _) in batch.Where(b => delivered.Contains(b.Item1)))
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                update topk_windows set published_at = now()
                where group_id = @group and granularity_s = @g and window_start = @s and dimension = @d
                  and closed_at is not null and published_at is null
                  and (topic, partition) in (select * from unnest(@topics, @numbers))
                """, new
            {
                group,
                g = window.GranularitySeconds,
                s = window.WindowStart.UtcDateTime,
                d = window.Dimension,
                topics = parts.Select(p => p.Topic).ToArray(),
                numbers = parts.Select(p => p.Partition).ToArray(),
            }, transaction, cancellationToken: cancellationToken));
        }
        await transaction.CommitAsync(cancellationToken);
        return delivered.Count;
    }

    /// <summary>Deletes windows that started before <paramref name="before"/>; returns the rows deleted.</summary>
    public async Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var args = new { group, before = before.UtcDateTime };
        var windows = await connection.ExecuteAsync(new CommandDefinition(
            "delete from topk_windows where group_id = @group and window_start < @before", args, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from topk_late where group_id = @group and window_start < @before", args, cancellationToken: cancellationToken));
        return windows;
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
