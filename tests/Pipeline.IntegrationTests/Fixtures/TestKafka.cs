using Pipeline.Kafka.Embedded;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>An embedded cluster configured as docker compose runs Kafka: a new group is assigned at once, not after 3 s.</summary>
internal static class TestKafka
{
    public static EmbeddedKafkaCluster Start(int brokers = 1)
    {
        var kafka = EmbeddedKafkaCluster.Start(brokers);
        kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        return kafka;
    }
}
