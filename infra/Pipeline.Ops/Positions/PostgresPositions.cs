using Confluent.Kafka;
using Npgsql;
using Pipeline.Ops.Cli;
using Pipeline.Postgres;

namespace Pipeline.Ops.Positions;

/// <summary>
/// The <c>consumer_offsets</c> table of an exactly-once sink's database (the NOC sink, the top-k
/// aggregator): written in the same transaction as the sink's data, so it is where the group really stands.
/// </summary>
internal sealed class PostgresPositions(string connectionString) : IPositionStore
{
    public StoreKind Kind => StoreKind.Postgres;

    public string Describe => $"consumer_offsets in {Safe(connectionString)}";

    public string ConnectionString => connectionString;

    public IReadOnlyDictionary<TopicPartition, long> Read(string group, IReadOnlyList<TopicPartition> partitions) =>
        Run(async connection =>
        {
            if (!await TableExistsAsync(connection, "consumer_offsets")) return new Dictionary<TopicPartition, long>();
            var stored = await SinkOffsetStore.ReadAsync(connection, group, partitions.Select(p => (p.Topic, p.Partition.Value)), CancellationToken.None);
            return stored.ToDictionary(s => new TopicPartition(s.Key.Topic, s.Key.Partition), s => s.Value);
        });

    /// <summary>Opens a connection and runs <paramref name="work"/>; an unreachable database is a configuration error.</summary>
    public T Run<T>(Func<NpgsqlConnection, Task<T>> work)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            return work(connection).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is NpgsqlException or ArgumentException)
        {
            throw new UsageException($"PostgreSQL ({Safe(connectionString)}): {ex.Message}", ex);
        }
    }

    public static async Task<bool> TableExistsAsync(NpgsqlConnection connection, string table)
    {
        await using var command = new NpgsqlCommand("select to_regclass(@table) is not null", connection);
        command.Parameters.AddWithValue("table", table);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The connection string without its password, for messages.</summary>
    public static string Safe(string connectionString)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString) { Password = null }.ToString();
        }
        catch (ArgumentException)
        {
            return "(unreadable connection string)";
        }
    }
}
