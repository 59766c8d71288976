using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Pipeline.Consumers.Postgres;
using Pipeline.Kafka.Consuming;
using Pipeline.Postgres;

// The network operations team's sink: the stream into PostgreSQL, exactly once.
return await ConsumerHost.RunAsync("pipeline-noc", args, new ConsumerDefaults("noc_team", "127.0.0.1:9101")
{
    Summary = "The network operations team's sink: the whole stream into PostgreSQL, exactly once.",
}, builder =>
{
    var options = builder.Configuration.GetSection(PostgresOptions.Section).Get<PostgresOptions>() ?? new PostgresOptions();
    options.Validate();
    var connection = new NpgsqlConnectionStringBuilder(options.ConnectionString) { CommandTimeout = options.CommandTimeoutSeconds };
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connection.ConnectionString));
    builder.Services.AddSingleton<EventPartitions>();
    builder.Services.AddSingleton<MetricPartitions>();
    // Before the runtime: no record is read until the schema is there.
    builder.Services.AddHostedService(sp => new MigrateOnStart(sp.GetRequiredService<NpgsqlDataSource>(), typeof(PostgresSink).Assembly, ["noc"],
        sp.GetRequiredService<ILogger<MigrateOnStart>>()));
    builder.Services.AddHostedService<PartitionMaintenance>();
    builder.Services.AddSingleton<IBatchSink>(sp => new PostgresSink(sp.GetRequiredService<NpgsqlDataSource>(),
        sp.GetRequiredService<EventPartitions>(), sp.GetRequiredService<MetricPartitions>(), sp.GetRequiredService<ConsumerOptions>().Group, options));
}, [
    new("--postgres", "Postgres:ConnectionString", "Npgsql connection string (keep the password in the environment or a secret file)", new PostgresOptions().ConnectionString),
    new("--retention-days", "Postgres:RetentionDays", "Days of events kept (0: keep)", new PostgresOptions().RetentionDays.ToString(CultureInfo.InvariantCulture)),
    new("--metrics-retention-days", "Postgres:MetricsRetentionDays", "Days of scraped metrics kept (0: keep)", new PostgresOptions().MetricsRetentionDays.ToString(CultureInfo.InvariantCulture)),
]);
