using Npgsql;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>The environment <c>.pipeline/local.env</c> would give a walkthrough: Kafka, and a database for the sinks and psql.</summary>
internal static class PipelineEnvironment
{
    /// <summary>
    /// The environment for a walkthrough against a test's pipeline; on a shared Kafka it also names the test's own
    /// topics (<c>Consumer__Topics</c>), which the workers and the operator commands take as their default.
    /// </summary>
    public static Dictionary<string, string> For(PipelineUnderTest pipeline, TemporaryDatabase? database = null)
    {
        var environment = For(pipeline.Kafka.BootstrapServers, database);
        if (!pipeline.Kafka.IsEmbedded) environment["Consumer__Topics"] = string.Join(',', new[] { "syslog", "events", "metrics" }.Select(pipeline.Topic));
        return environment;
    }

    public static Dictionary<string, string> For(string bootstrap, TemporaryDatabase? database = null)
    {
        var environment = new Dictionary<string, string> { ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap };
        if (database is null) return environment;
        var pg = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        environment["PIPELINE_POSTGRES"] = database.ConnectionString;
        environment["PGHOST"] = pg.Host ?? "127.0.0.1";
        environment["PGPORT"] = pg.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["PGUSER"] = pg.Username ?? "";
        environment["PGPASSWORD"] = pg.Password ?? "";
        environment["PGDATABASE"] = pg.Database ?? "";
        return environment;
    }
}
