using Pipeline.Kafka.Embedded;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// An embedded Kafka cluster with the pipeline's topics, plus helpers to start the edge and the sinks
/// against it as separate processes on free loopback ports.
/// </summary>
internal sealed class PipelineUnderTest : IAsyncDisposable
{
    private readonly List<PipelineProcess> _processes = [];
    private readonly List<string> _directories = [];

    private PipelineUnderTest(EmbeddedKafkaCluster kafka) => Kafka = kafka;

    public EmbeddedKafkaCluster Kafka { get; }

    public static PipelineUnderTest Start(int brokers = 3, int partitions = 6, params string[] extraTopics)
    {
        var kafka = EmbeddedKafkaCluster.Start(brokers);
        foreach (var topic in new[] { "syslog", "events", "metrics" }.Concat(extraTopics)) kafka.CreateTopic(topic, partitions);
        return new PipelineUnderTest(kafka);
    }

    /// <summary>
    /// Starts the edge with a spool directory of its own (or <paramref name="spool"/>, to restart on one);
    /// returns it with its ports (UDP and TCP syslog share one port number). HTTP accepts anonymous requests
    /// unless <paramref name="extraArgs"/> says otherwise.
    /// </summary>
    public async Task<EdgeProcess> StartEdgeAsync(IEnumerable<string>? extraArgs = null, IDictionary<string, string>? environment = null,
        string? spool = null, int? syslogPort = null, int? httpPort = null)
    {
        var syslog = syslogPort ?? FreePort.Next();
        var http = httpPort ?? FreePort.Next();
        spool ??= Directory.CreateTempSubdirectory("edge-spool-").FullName;
        _directories.Add(spool);
        var process = PipelineProcess.Start("producer/Pipeline.Edge",
            ["--kafka", Kafka.BootstrapServers, "--syslog-udp", $"127.0.0.1:{syslog}", "--syslog-tcp", $"127.0.0.1:{syslog}", "--http", $"127.0.0.1:{http}",
             "--spool", spool, "--Edge:Http:AllowAnonymous=true", .. extraArgs ?? []],
            environment, $"http://127.0.0.1:{http}/healthz");
        _processes.Add(process);
        await process.WaitHealthyAsync();
        return new EdgeProcess(process, syslog, http, spool);
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
        foreach (var directory in _directories.Where(Directory.Exists)) Directory.Delete(directory, recursive: true);
    }
}

internal sealed record EdgeProcess(PipelineProcess Process, int SyslogPort, int HttpPort, string Spool)
{
    public string HttpUrl => $"http://127.0.0.1:{HttpPort}";
}
