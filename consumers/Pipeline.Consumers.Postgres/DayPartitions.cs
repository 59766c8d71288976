using System.Globalization;
using Dapper;
using Npgsql;

namespace Pipeline.Consumers.Postgres;

/// <summary>
/// The day partitions of a table partitioned by <c>received_at</c> (<c>events</c>, <c>metrics</c>): created
/// before a batch needs them (and a day ahead), and dropped whole once older than the retention. Creation
/// takes an advisory lock so that several sink instances never race on the same day.
/// </summary>
internal abstract class DayPartitions(NpgsqlDataSource dataSource, string table, long lockKey)
{
    private readonly HashSet<DateOnly> _known = [];
    private readonly object _gate = new();

    /// <summary>The partitioned table.</summary>
    public string Table => table;

    public string PartitionOf(DateOnly day) => NameOf(table, day);

    /// <summary>A day partition's name: <c>&lt;table&gt;_pYYYYMMDD</c>.</summary>
    public static string NameOf(string table, DateOnly day) => table + "_p" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>Makes sure a partition exists for each day.</summary>
    public async Task EnsureAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        List<DateOnly> missing;
        lock (_gate) missing = days.Distinct().Where(d => !_known.Contains(d)).ToList();
        if (missing.Count == 0) return;

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync("select pg_advisory_xact_lock(@lockKey)", new { lockKey }, transaction);
        foreach (var day in missing)
        {
            var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var to = day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            // Names and bounds come from a DateOnly and a constant, never from input text.
            await connection.ExecuteAsync(new CommandDefinition(
                $"create table if not exists {PartitionOf(day)} partition of {table} for values from ('{from} 00:00:00+00') to ('{to} 00:00:00+00')",
                transaction: transaction, cancellationToken: cancellationToken));
        }
        await transaction.CommitAsync(cancellationToken);
        lock (_gate) _known.UnionWith(missing);
    }

    /// <summary>Day partitions that exist now, oldest first.</summary>
    public async Task<IReadOnlyList<DateOnly>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var names = await connection.QueryAsync<string>(new CommandDefinition("""
            select c.relname from pg_inherits i
            join pg_class c on c.oid = i.inhrelid
            join pg_class p on p.oid = i.inhparent
            where p.relname = @table and c.relname ~ ('^' || @table || '_p[0-9]{8}$')
            """, new { table }, cancellationToken: cancellationToken));
        return names.Select(n => DateOnly.ParseExact(n[(table.Length + 2)..], "yyyyMMdd", CultureInfo.InvariantCulture)).Order().ToList();
    }

    /// <summary>Drops every day partition that ends at or before <c>now - retentionDays</c>; returns the days dropped.</summary>
    public async Task<IReadOnlyList<DateOnly>> DropExpiredAsync(int retentionDays, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (retentionDays <= 0) return [];
        var limit = now.UtcDateTime.AddDays(-retentionDays);
        var expired = (await ListAsync(cancellationToken)).Where(d => d.AddDays(1).ToDateTime(TimeOnly.MinValue) <= limit).ToList();
        if (expired.Count == 0) return [];
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        foreach (var day in expired)
            await connection.ExecuteAsync(new CommandDefinition($"drop table if exists {PartitionOf(day)}", cancellationToken: cancellationToken));
        lock (_gate) _known.ExceptWith(expired);
        return expired;
    }
}

/// <summary>The day partitions of <c>events</c> (<c>events_pYYYYMMDD</c>).</summary>
internal sealed class EventPartitions(NpgsqlDataSource dataSource) : DayPartitions(dataSource, "events", 0x6576_656e_7473_7000) // "events p"
{
    public static string NameOf(DateOnly day) => NameOf("events", day);
}

/// <summary>The day partitions of <c>metrics</c> (<c>metrics_pYYYYMMDD</c>), with a retention of their own.</summary>
internal sealed class MetricPartitions(NpgsqlDataSource dataSource) : DayPartitions(dataSource, "metrics", 0x6d65_7472_6963_7370) // "metricsp"
{
    public static string NameOf(DateOnly day) => NameOf("metrics", day);
}
