using System.Diagnostics;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>
/// One embedded Kafka cluster (3 brokers, 8 partitions per topic) with the 200,000-event stream produced
/// once into <c>syslog</c>; each test reads it with a group and a database of its own. 8 partitions spread the
/// stream's 40 hosts evenly (25,000 events each, about 2.4 MiB compressed: half of what an embedded partition keeps).
/// </summary>
public sealed class NocStreamFixture : IAsyncLifetime
{
    public const int Events = 200_000;
    public const int Partitions = 8;
    public const string Topic = "syslog";

    internal PipelineUnderTest Pipeline { get; private set; } = null!;
    internal NocStream Stream { get; } = new(Events);
    public TimeSpan ProduceTime { get; private set; }

    public Task InitializeAsync()
    {
        Pipeline = PipelineUnderTest.Start(brokers: 3, partitions: Partitions);
        var clock = Stopwatch.StartNew();
        Stream.Produce(Pipeline.Kafka.BootstrapServers, Topic);
        ProduceTime = clock.Elapsed;
        // Produce checked that the broker holds every record it was given; here, that it was given all.
        var appended = TopicReader.EndOffsetSum(Pipeline.Kafka.BootstrapServers, Topic, Partitions);
        if (appended != Events) throw new InvalidOperationException($"Kafka has {appended} records of {Topic}, not {Events}");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Pipeline.DisposeAsync();
}
