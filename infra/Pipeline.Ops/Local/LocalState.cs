using Dapper;
using Npgsql;

namespace Pipeline.Ops.Local;

/// <summary>
/// A local run's Kafka lives in memory and starts empty, so positions stored for the previous run's Kafka
/// mean nothing — and resuming from them would skip the new run's first records. Before the workers start,
/// the positions the exactly-once sinks keep in PostgreSQL are forgotten (rows already written stay).
/// </summary>
internal static class LocalState
{
    private static readonly string[] Statements =
    [
        "delete from consumer_offsets where group_id = any(@groups)",
        "delete from topk_partitions where group_id = any(@groups)",
        "delete from topk_closed_through where group_id = any(@groups)",
        "delete from topk_windows where group_id = any(@groups) and closed_at is null",
    ];

    public static async Task<int> ForgetPositionsAsync(string connectionString, IReadOnlyList<string> groups, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var forgotten = 0;
        foreach (var sql in Statements)
        {
            try
            {
                forgotten += await connection.ExecuteAsync(new CommandDefinition(sql, new { groups = groups.ToArray() }, cancellationToken: cancellationToken));
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                // First run: the sinks create their tables when they start.
            }
        }
        return forgotten;
    }
}
