using Pipeline.Kafka.Embedded;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// An embedded Kafka cluster with the pipeline's topics, plus helpers to start the edge and the sinks
/// against it as separate processes on free loopback ports.
/// </summary>
internal sealed class PipelineUnderTest : IAsyncDisposable
{
    private readonly List<PipelineProcess> _processes = [];

    private PipelineUnderTest(EmbeddedKafkaCluster kafka) => Kafka = kafka;

    public EmbeddedKafkaCluster Kafka { get; }

    public static PipelineUnderTest Start(int brokers = 3, int partitions = 6, params string[] extraTopics)
    {
        var kafka = EmbeddedKafkaCluster.Start(brokers);
        foreach (var topic in new[] { "syslog", "events", "metrics" }.Concat(extraTopics)) kafka.CreateTopic(topic, partitions);
        return new PipelineUnderTest(kafka);
    }

    /// <summary>Starts the edge; returns it with its ports (UDP and TCP syslog share one port number).</summary>
    public async Task<EdgeProcess> StartEdgeAsync(IEnumerable<string>? extraArgs = null, IDictionary<string, string>? environment = null)
    {
        var syslog = FreePort.Next();
        var http = FreePort.Next();
        var process = PipelineProcess.Start("producer/Pipeline.Edge",
            ["--kafka", Kafka.BootstrapServers, "--syslog-udp", $"127.0.0.1:{syslog}", "--syslog-tcp", $"127.0.0.1:{syslog}", "--http", $"127.0.0.1:{http}", .. extraArgs ?? []],
            environment, $"http://127.0.0.1:{http}/healthz");
        _processes.Add(process);
        await process.WaitHealthyAsync();
        return new EdgeProcess(process, syslog, http);
    }

    /// <summary>Starts a consumer executable (e.g. <c>consumers/Pipeline.Consumers.Postgres</c>) with its metrics on a free port.</summary>
    public async Task<PipelineProcess> StartConsumerAsync(string projectFolder, IEnumerable<string> args, IDictionary<string, string>? environment = null, bool waitHealthy = true)
    {
        var http = FreePort.Next();
        var process = PipelineProcess.Start(projectFolder, ["--kafka", Kafka.BootstrapServers, "--http", $"127.0.0.1:{http}", .. args],
            environment, $"http://127.0.0.1:{http}/healthz");
        _processes.Add(process);
        if (waitHealthy) await process.WaitHealthyAsync();
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes) await process.DisposeAsync();
        Kafka.Dispose();
    }
}

internal sealed record EdgeProcess(PipelineProcess Process, int SyslogPort, int HttpPort);
