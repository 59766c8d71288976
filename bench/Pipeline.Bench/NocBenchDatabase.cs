using Npgsql;
using Pipeline.Consumers.Postgres;
using Pipeline.Postgres;

namespace Pipeline.Bench;

/// <summary>
/// The NOC schema as a contender's playground: a fresh database per run and the row count checked after it.
/// Shared by the NOC and SIEM benches, so every writer they compare starts from the same empty tables.
/// </summary>
internal static class NocBenchDatabase
{
    /// <summary>Runs a contender on a fresh database with the NOC schema and the stream's day partitions, after a checkpoint.</summary>
    public static T WithDatabase<T>(string admin, List<DateOnly> days, Func<string, T> run)
    {
        var name = "noc_bench_" + Guid.NewGuid().ToString("N")[..8];
        BenchSupport.Execute(admin, $"create database {name}", timeoutSeconds: 600);
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
            using (var dataSource = NpgsqlDataSource.Create(connectionString))
            {
                Migrator.ApplyCoreAsync(dataSource, default).GetAwaiter().GetResult();
                Migrator.ApplyAsync(dataSource, typeof(PostgresSink).Assembly, ["noc"], default).GetAwaiter().GetResult();
                new EventPartitions(dataSource).EnsureAsync(days, default).GetAwaiter().GetResult();
            }
            BenchSupport.Execute(admin, "checkpoint", timeoutSeconds: 600);
            return run(connectionString);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            BenchSupport.Execute(admin, $"drop database if exists {name} with (force)", timeoutSeconds: 600);
        }
    }

    /// <summary>Fails the run unless the events table holds exactly <paramref name="expected"/> rows (none lost, none twice).</summary>
    public static void CheckEventCount(string connectionString, long expected)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand("select count(*) from events", connection);
        var rows = (long)command.ExecuteScalar()!;
        if (rows != expected) throw new InvalidOperationException($"{rows:N0} rows in events, expected {expected:N0}");
    }
}
