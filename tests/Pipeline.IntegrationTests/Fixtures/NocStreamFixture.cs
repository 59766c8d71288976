using System.Diagnostics;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A Kafka (3 embedded brokers, or the run's shared Kafka) whose syslog topic has 8 partitions and the
/// 200,000-event stream produced once into it; each test reads it with a group and a database of its own.
/// 8 partitions spread the stream's 40 hosts evenly: 25,000 events each, about 2.4 MiB compressed, half of what
/// an embedded partition keeps. A broker that chooses the partition count itself (the embedded cluster run apart,
/// behind host:port, has no admin API and makes 4) gets 25,000 events per partition it made.
/// </summary>
public sealed class NocStreamFixture : IAsyncLifetime
{
    private const int EventsPerPartition = 25_000;
    private const int WantedPartitions = 8;

    internal PipelineUnderTest Pipeline { get; private set; } = null!;
    internal NocStream Stream { get; private set; } = null!;
    public string Topic { get; private set; } = "";
    public int Partitions { get; private set; }
    public int Events => Stream.Count;
    public TimeSpan ProduceTime { get; private set; }

    public Task InitializeAsync()
    {
        if (KafkaBackend.Unavailable is not null) return Task.CompletedTask;
        Pipeline = PipelineUnderTest.Start(brokers: 3, partitions: WantedPartitions);
        Topic = Pipeline.Topic("syslog");
        Partitions = Pipeline.Partitions("syslog");
        Stream = new NocStream(EventsPerPartition * Partitions);
        var clock = Stopwatch.StartNew();
        Stream.Produce(Pipeline.Kafka.BootstrapServers, Topic);
        ProduceTime = clock.Elapsed;
        // Produce checked that the broker holds every record it was given; here, that it was given all.
        var appended = TopicReader.EndOffsetSum(Pipeline.Kafka.BootstrapServers, Topic, Partitions);
        if (appended != Events) throw new InvalidOperationException($"Kafka has {appended} records of {Topic}, not {Events}");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (Pipeline is not null) await Pipeline.DisposeAsync();
    }
}
