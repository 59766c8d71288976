using Npgsql;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Ops;

/// <summary>The environment <c>.pipeline/local.env</c> would give a walkthrough: Kafka, and a database for the sinks and psql.</summary>
internal static class PipelineEnvironment
{
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
