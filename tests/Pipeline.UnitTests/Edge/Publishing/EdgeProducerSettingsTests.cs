using Microsoft.Extensions.Configuration;
using Pipeline.Edge;
using Pipeline.Kafka;
using Pipeline.Kafka.Producing;

namespace Pipeline.UnitTests.Edge.Publishing;

/// <summary><c>Edge:Producer:MessageTimeoutMs</c> does what docs/edge.md says: 0 (never) unless set, and then what was set.</summary>
public sealed class EdgeProducerSettingsTests
{
    private static EdgeOptions Bind(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build()
            .GetSection(EdgeOptions.Section).Get<EdgeOptions>() ?? new EdgeOptions();

    [Fact]
    public void TheEdgesProducerNeverTimesAMessageOutUnlessToldTo()
    {
        var edge = Bind(("Edge:Producer:LingerMs", "7"));
        var config = ProducerFactory.Config(new KafkaOptions { BootstrapServers = "127.0.0.1:9092" }, edge.Producer, "edge-test");
        Assert.Equal(0, config.MessageTimeoutMs);
        Assert.Equal(7, config.LingerMs);
    }

    [Fact]
    public void AConfiguredMessageTimeoutReachesTheProducer()
    {
        var edge = Bind(("Edge:Producer:MessageTimeoutMs", "30000"));
        var config = ProducerFactory.Config(new KafkaOptions { BootstrapServers = "127.0.0.1:9092" }, edge.Producer, "edge-test");
        Assert.Equal(30_000, config.MessageTimeoutMs);
    }

    [Fact]
    public void ANegativeMessageTimeoutIsRefusedAtStartUp()
    {
        var edge = Bind(("Edge:Producer:MessageTimeoutMs", "-1"));
        var error = Assert.Throws<ArgumentException>(edge.Validate);
        Assert.Contains("MessageTimeoutMs", error.Message);
    }
}
