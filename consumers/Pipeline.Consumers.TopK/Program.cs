using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Pipeline.Consumers.TopK;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Core.Metrics;
using Pipeline.Kafka.Consuming;
using Pipeline.Postgres;

// The top-k aggregator (group topk): windowed heavy hitters per dimension, checkpointed with the offsets
// in PostgreSQL (exactly-once effect), closed windows stored and published to topic topk, GET /topk.
var defaults = new TopKOptions();
return await ConsumerHost.RunAsync("pipeline-topk", args, new ConsumerDefaults("topk", "127.0.0.1:9103")
{
    Summary = "The top-k aggregator: windowed heavy hitters per dimension, checkpointed with the offsets in PostgreSQL (exactly-once effect), closed windows stored and published, GET /topk.",
}, builder =>
{
    var options = builder.Configuration.GetSection(TopKOptions.Section).Get<TopKOptions>() ?? new TopKOptions();
    // One PostgreSQL setting across executables (--postgres, Postgres:ConnectionString); TopK:ConnectionString is its older name.
    if (builder.Configuration["Postgres:ConnectionString"] is { Length: > 0 } postgres) options.ConnectionString = postgres;
    var consumer = builder.Configuration.GetSection(ConsumerOptions.Section).Get<ConsumerOptions>() ?? new ConsumerOptions();
    options.Validate(consumer.BatchMaxWait);
    var connection = new NpgsqlConnectionStringBuilder(options.ConnectionString) { CommandTimeout = options.CommandTimeoutSeconds };
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connection.ConnectionString));
    // Before the runtime: no record is read until the schema is there.
    builder.Services.AddHostedService(sp => new MigrateOnStart(sp.GetRequiredService<NpgsqlDataSource>(), typeof(TopKSink).Assembly, ["topk"],
        sp.GetRequiredService<ILogger<MigrateOnStart>>()));
    builder.Services.AddSingleton(sp => new TopKStore(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ConsumerOptions>().Group));
    builder.Services.AddSingleton(sp => new StoredWindows(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ConsumerOptions>().Group));
    builder.Services.AddSingleton(sp => new TopKMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<ConsumerOptions>().Group, options.Granularities));
    builder.Services.AddSingleton(_ => new TopKAggregator(AggregatorSettings.From(options)));
    builder.Services.AddSingleton<TopKSink>();
    builder.Services.AddSingleton<IBatchSink>(sp => sp.GetRequiredService<TopKSink>());
    builder.Services.AddSingleton<TopKPublisher>();
    builder.Services.AddHostedService<TopKCloser>();
}, [
    new("--postgres", "Postgres:ConnectionString", "Npgsql connection string of the checkpoints and closed windows (keep the password in the environment or a secret file)", defaults.ConnectionString),
    new("--dimensions", "TopK:Dimensions", "Dimensions counted, comma-separated", defaults.Dimensions),
    new("--window", "TopK:Window", "Window length", defaults.Window.ToString("c", CultureInfo.InvariantCulture)),
    new("--rollup", "TopK:Rollup", "Roll-up window length", defaults.Rollup.ToString("c", CultureInfo.InvariantCulture)),
    new("--capacity", "TopK:Capacity", "Keys tracked per dimension and window", defaults.Capacity.ToString(CultureInfo.InvariantCulture)),
    new("--lateness", "TopK:AllowedLateness", "How late an event may still be counted in its window", defaults.AllowedLateness.ToString("c", CultureInfo.InvariantCulture)),
    new("--idle", "TopK:IdleTimeout", "A quiet partition's window closes on the wall clock after this", defaults.IdleTimeout.ToString("c", CultureInfo.InvariantCulture)),
    new("--checkpoint-interval", "TopK:CheckpointInterval", "Longest a counted batch waits for its checkpoint (0: every batch)", defaults.CheckpointInterval.ToString("c", CultureInfo.InvariantCulture)),
    new("--publish-topic", "TopK:PublishTopic", "Topic closed windows are published to (empty: not published)", defaults.PublishTopic),
], app =>
{
    var options = app.Services.GetRequiredService<TopKOptions>();
    TopKLog.Starting(app.Services.GetRequiredService<ILogger<TopKSink>>(), options.Dimensions,
        string.Join(",", options.Granularities.Select(g => g.Label)), options.Capacity, options.AllowedLateness, options.IdleTimeout, options.PublishTopic);
    app.MapTopK();
});
