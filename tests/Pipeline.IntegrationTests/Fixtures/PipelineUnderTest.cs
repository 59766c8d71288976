using Pipeline.Core;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A Kafka with the pipeline's topics (<see cref="KafkaUnderTest"/>: the embedded cluster, or the run's shared
/// Kafka under names of this test's own), plus helpers to start the edge and the sinks against it as separate
/// processes on free loopback ports. The edge and the sinks are told the test's topic names.
/// </summary>
internal sealed class PipelineUnderTest : IAsyncDisposable
{
    private static readonly string[] StreamTopics = [Topics.Syslog, Topics.Events, Topics.Metrics];
    private readonly List<PipelineProcess> _processes = [];
    private readonly List<string> _directories = [];
    private readonly Dictionary<string, int> _partitions = new(StringComparer.Ordinal);

    private PipelineUnderTest(KafkaUnderTest kafka) => Kafka = kafka;

    public KafkaUnderTest Kafka { get; }

    public static PipelineUnderTest Start(int brokers = 3, int partitions = 6, params string[] extraTopics)
    {
        var pipeline = new PipelineUnderTest(KafkaUnderTest.Start(brokers));
        foreach (var topic in StreamTopics.Concat(extraTopics))
            pipeline._partitions[topic] = pipeline.Kafka.CreateTopic(pipeline.Topic(topic), partitions);
        return pipeline;
    }

    /// <summary>This test's name of a topic the pipeline calls <paramref name="name"/> (the same name on the embedded cluster).</summary>
    public string Topic(string name) => Kafka.Topic(name);

    /// <summary>How many partitions a topic made by <see cref="Start"/> has (a broker without the admin API may choose).</summary>
    public int Partitions(string name) => _partitions[name];

    /// <summary>
    /// Starts the edge with a spool directory of its own (or <paramref name="spool"/>, to restart on one);
    /// returns it with its ports (UDP and TCP syslog share one port number). HTTP accepts anonymous requests
    /// unless <paramref name="extraArgs"/> says otherwise. With <paramref name="adminPort"/>, /metrics and /healthz are on an
    /// admin listener there (<c>--admin PORT</c>: 127.0.0.1), and the process's health and metrics are read from it.
    /// </summary>
    public async Task<EdgeProcess> StartEdgeAsync(IEnumerable<string>? extraArgs = null, IDictionary<string, string>? environment = null,
        string? spool = null, int? syslogPort = null, int? httpPort = null, int? adminPort = null, bool waitHealthy = true)
    {
        var syslog = syslogPort ?? FreePort.Next();
        var http = httpPort ?? FreePort.Next();
        spool ??= Directory.CreateTempSubdirectory("edge-spool-").FullName;
        _directories.Add(spool);
        var process = PipelineProcess.Start("producer/Pipeline.Edge",
            ["--kafka", Kafka.BootstrapServers, "--syslog-udp", $"127.0.0.1:{syslog}", "--syslog-tcp", $"127.0.0.1:{syslog}", "--http", $"127.0.0.1:{http}",
             "--spool", spool, "--Edge:Http:AllowAnonymous=true",
             $"--Edge:DefaultTopics:Syslog={Topic(Topics.Syslog)}", $"--Edge:DefaultTopics:Events={Topic(Topics.Events)}", $"--Edge:DefaultTopics:Metrics={Topic(Topics.Metrics)}",
             .. adminPort is { } admin ? ["--admin", admin.ToString(System.Globalization.CultureInfo.InvariantCulture)] : Array.Empty<string>(),
             .. extraArgs ?? []],
            environment, $"http://127.0.0.1:{adminPort ?? http}/healthz");
        _processes.Add(process);
        if (waitHealthy) await process.WaitHealthyAsync();
        return new EdgeProcess(process, syslog, http, spool);
    }

    /// <summary>
    /// Starts a consumer executable (e.g. <c>consumers/Pipeline.Consumers.Postgres</c>) with its metrics on a free
    /// port. When neither <paramref name="args"/> nor <paramref name="environment"/> name topics it reads this test's
    /// syslog, events and metrics topics (on the embedded cluster, the default ones). With <paramref name="adminPort"/>,
    /// /metrics and /healthz are on an admin listener there, and are read from it.
    /// </summary>
    public async Task<PipelineProcess> StartConsumerAsync(string projectFolder, IEnumerable<string> args, IDictionary<string, string>? environment = null,
        bool waitHealthy = true, int? adminPort = null, int? httpPort = null)
    {
        var http = httpPort ?? FreePort.Next();
        var given = args.ToList();
        var named = given.Contains("--topics") || environment?.ContainsKey("Consumer__Topics") == true;
        string[] topics = named || Kafka.IsEmbedded ? [] : ["--topics", string.Join(',', StreamTopics.Select(Topic))];
        string[] admin = adminPort is { } port ? ["--admin", $"127.0.0.1:{port}"] : [];
        var process = PipelineProcess.Start(projectFolder, ["--kafka", Kafka.BootstrapServers, "--http", $"127.0.0.1:{http}", .. admin, .. topics, .. given],
            environment, $"http://127.0.0.1:{adminPort ?? http}/healthz");
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
