using System.Globalization;
using Microsoft.Extensions.Configuration;
using Pipeline.Edge;
using Pipeline.Kafka;
using Pipeline.Kafka.Producing;
using Pipeline.UnitTests.Support;

namespace Pipeline.UnitTests.Edge.Publishing;

/// <summary>
/// <c>Edge:Producer:MessageTimeoutMs</c> does what docs/edge.md says: 0 (never) unless set, and then what was set;
/// the linger the edge runs with unless set, and its UDP receive threads, are the ones docs/edge.md and the shipped appsettings.json give.
/// </summary>
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

    [Fact]
    public void TheDefaultLingerIsTheOneTheDocsAndTheShippedSettingsGive()
    {
        var shipped = Shipped();
        var documented = DocumentedDefaults("| `Edge:Producer:Compression`, `LingerMs`")[1];

        Assert.Equal(20, new ProducerSettings().LingerMs);
        Assert.Equal(new ProducerSettings().LingerMs, shipped.Producer.LingerMs);
        Assert.Equal(new ProducerSettings().LingerMs.ToString(CultureInfo.InvariantCulture), documented);
        Assert.Equal(20, ProducerFactory.Config(new KafkaOptions { BootstrapServers = "127.0.0.1:9092" }, Bind().Producer, "edge-test").LingerMs);
    }

    [Fact]
    public void OneThreadReceivesPerUdpSocketByDefaultInTheCodeTheShippedSettingsAndTheDocs()
    {
        var shipped = Shipped();
        var documented = DocumentedDefaults("| `Edge:Listeners:<name>:ReceiveLoops`");

        Assert.Equal(1, new ListenerOptions().ReceiveLoops);
        Assert.Equal(1, shipped.Listeners["syslog-udp"].ReceiveLoops);
        Assert.Equal([new ListenerOptions().ReceiveLoops.ToString(CultureInfo.InvariantCulture), new ListenerOptions().ProcessLoops.ToString(CultureInfo.InvariantCulture)], documented);
        Assert.Equal(new ListenerOptions().ProcessLoops, shipped.Listeners["syslog-udp"].ProcessLoops);
    }

    /// <summary>The edge's options as the shipped appsettings.json gives them.</summary>
    private static EdgeOptions Shipped() =>
        new ConfigurationBuilder().AddJsonFile(Path.Combine(SiemTestData.RepoRoot, "producer", "Pipeline.Edge", "appsettings.json")).Build()
            .GetSection(EdgeOptions.Section).Get<EdgeOptions>()!;

    /// <summary>The default column of the docs/edge.md settings row that starts with <paramref name="row"/>, split at its commas.</summary>
    private static string[] DocumentedDefaults(string row) =>
        [.. File.ReadLines(Path.Combine(SiemTestData.RepoRoot, "docs", "edge.md")).Single(l => l.StartsWith(row, StringComparison.Ordinal))
            .Split('|')[3].Split(',').Select(v => v.Trim())];
}
