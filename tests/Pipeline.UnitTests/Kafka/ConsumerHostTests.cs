using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Kafka;

public sealed class ConsumerHostTests
{
    [Fact]
    public async Task EveryConsumerTakesGroupTopicsFromBatchOptionsAndKafkaFromItsCommandLine()
    {
        await using var app = ConsumerHost.Build(
            ["--group", "new_team", "--topics", "syslog, alerts", "--from", "latest", "--batch-size", "1500", "--batch-wait", "00:00:02",
             "--kafka", "10.9.8.7:9092", "--http", "127.0.0.1:0", "--Consumer:DrainTimeout=00:00:03", "--Kafka:Properties:security.protocol=SSL"],
            new ConsumerDefaults("noc_team", "127.0.0.1:9101"), builder => builder.Services.AddSingleton<IBatchSink, NullSink>());

        var options = app.Services.GetRequiredService<ConsumerOptions>();
        var kafka = app.Services.GetRequiredService<KafkaOptions>();
        Assert.Equal("new_team", options.Group);
        Assert.Equal(["syslog", "alerts"], options.TopicList);
        Assert.Equal(AutoOffsetReset.Latest, options.AutoOffsetReset);
        Assert.Equal(1500, options.BatchSize);
        Assert.Equal(TimeSpan.FromSeconds(2), options.BatchMaxWait);
        Assert.Equal(TimeSpan.FromSeconds(3), options.DrainTimeout);
        Assert.Equal("10.9.8.7:9092", kafka.BootstrapServers);
        Assert.Equal("SSL", kafka.Properties["security.protocol"]);
    }

    [Fact]
    public async Task WithoutAGroupOnTheCommandLineTheExecutablesOwnGroupApplies()
    {
        await using var app = ConsumerHost.Build(["--http", "127.0.0.1:0"], new ConsumerDefaults("noc_team", "127.0.0.1:9101"),
            builder => builder.Services.AddSingleton<IBatchSink, NullSink>());
        Assert.Equal("noc_team", app.Services.GetRequiredService<ConsumerOptions>().Group);
    }

    [Fact]
    public void CodeOwnsCommitSemanticsWhateverThePassThroughPropertiesSay()
    {
        var kafka = new KafkaOptions { Properties = { ["enable.auto.commit"] = "true", ["enable.auto.offset.store"] = "true" } };
        var config = new ConsumerOptions { Group = "g", From = "latest" }.ToConfig(kafka, "test");
        Assert.False(config.EnableAutoCommit);
        Assert.False(config.EnableAutoOffsetStore);
        Assert.Equal(AutoOffsetReset.Latest, config.AutoOffsetReset);
        Assert.Equal("g", config.GroupId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public void ABatchSizeOutOfRangeIsRefusedAtStartUp(int size) =>
        Assert.Throws<ArgumentException>(() => new ConsumerOptions { Group = "g", BatchSize = size }.Validate());

    internal sealed class NullSink : IBatchSink
    {
        public OffsetStorage OffsetStorage => OffsetStorage.Kafka;

        public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<PartitionKey, long>>(new Dictionary<PartitionKey, long>());

        public Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
