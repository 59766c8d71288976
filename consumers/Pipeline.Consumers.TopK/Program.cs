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
return await ConsumerHost.RunAsync("pipeline-topk", args, new ConsumerDefaults("topk", "127.0.0.1:9103"), builder =>
{
    var options = builder.Configuration.GetSection(TopKOptions.Section).Get<TopKOptions>() ?? new TopKOptions();
    var consumer = builder.Configuration.GetSection(ConsumerOptions.Section).Get<ConsumerOptions>() ?? new ConsumerOptions();
    options.Validate(consumer.BatchMaxWait);
    var connection = new NpgsqlConnectionStringBuilder(options.ConnectionString) { CommandTimeout = options.CommandTimeoutSeconds };
    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connection.ConnectionString));
    // Before the runtime: no record is read until the schema is there.
    builder.Services.AddHostedService(sp => new MigrateOnStart(sp.GetRequiredService<NpgsqlDataSource>(), typeof(TopKSink).Assembly, ["topk"],
        sp.GetRequiredService<ILogger<MigrateOnStart>>()));
    builder.Services.AddSingleton(sp => new TopKStore(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ConsumerOptions>().Group));
    builder.Services.AddSingleton(sp => new TopKMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<ConsumerOptions>().Group, options.Granularities));
    builder.Services.AddSingleton(_ => new TopKAggregator(AggregatorSettings.From(options)));
    builder.Services.AddSingleton<TopKSink>();
    builder.Services.AddSingleton<IBatchSink>(sp => sp.GetRequiredService<TopKSink>());
    builder.Services.AddSingleton<TopKPublisher>();
    builder.Services.AddHostedService<TopKCloser>();
}, new Dictionary<string, string>
{
    ["--postgres"] = "TopK:ConnectionString",
    ["--dimensions"] = "TopK:Dimensions",
    ["--window"] = "TopK:Window",
    ["--rollup"] = "TopK:Rollup",
    ["--capacity"] = "TopK:Capacity",
    ["--lateness"] = "TopK:AllowedLateness",
    ["--idle"] = "TopK:IdleTimeout",
    ["--publish-topic"] = "TopK:PublishTopic",
}, app =>
{
    var options = app.Services.GetRequiredService<TopKOptions>();
    TopKLog.Starting(app.Services.GetRequiredService<ILogger<TopKSink>>(), options.Dimensions,
        string.Join(",", options.Granularities.Select(g => g.Label)), options.Capacity, options.AllowedLateness, options.IdleTimeout, options.PublishTopic);
    app.MapTopK();
});
