namespace Pipeline.Consumers.Postgres;

/// <summary>The NOC sink's database settings (section <c>Postgres</c>).</summary>
public sealed class PostgresOptions
{
    public const string Section = "Postgres";

    /// <summary>Npgsql connection string. Default: a local server on 127.0.0.1:55432, database <c>pipeline</c>. Put the password in the environment.</summary>
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Port=55432;Username=pipeline;Database=pipeline";

    /// <summary>Day partitions older than this many days are dropped. Default 14 (the seed's window); 0 keeps everything.</summary>
    public int RetentionDays { get; set; } = 14;

    /// <summary>Day partitions of <c>metrics</c> older than this many days are dropped. Default 14; 0 keeps everything.</summary>
    public int MetricsRetentionDays { get; set; } = 14;

    /// <summary>How often partitions are created ahead and expired ones dropped. Default 1 hour.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Longest a single write may take before it counts as failed. Default 60 s.</summary>
    public int CommandTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// Connections a large batch is written on at once, each with whole Kafka partitions and their positions in a
    /// transaction of its own, so PostgreSQL works on it with more than one core. Default 2; 1 writes every batch
    /// in one transaction.
    /// </summary>
    public int WriteConnections { get; set; } = 2;

    /// <summary>A batch is split only where every connection gets at least this many rows. Default 500.</summary>
    public int RowsPerConnection { get; set; } = 500;

    public void Validate()
    {
        if (WriteConnections is < 1 or > 16) throw new ArgumentException("Postgres:WriteConnections must be between 1 and 16");
        if (RowsPerConnection < 1) throw new ArgumentException("Postgres:RowsPerConnection must be at least 1");
        if (string.IsNullOrWhiteSpace(ConnectionString)) throw new ArgumentException("Postgres:ConnectionString is required");
        if (RetentionDays < 0) throw new ArgumentException("Postgres:RetentionDays must be 0 (keep) or more");
        if (MetricsRetentionDays < 0) throw new ArgumentException("Postgres:MetricsRetentionDays must be 0 (keep) or more");
        if (MaintenanceInterval <= TimeSpan.Zero) throw new ArgumentException("Postgres:MaintenanceInterval must be positive");
    }
}
