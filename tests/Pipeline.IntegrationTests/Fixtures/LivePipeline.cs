using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Ops.Cli;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A running pipeline for the status page and <c>ops top</c>: an embedded Kafka cluster, the edge, the NOC
/// sink and the top-k aggregator on a private PostgreSQL database, a jsonl sink (group <c>files</c>) and a
/// second one (group <c>scratch_team</c>) that a test stops; <c>ops status</c> serving the page over all of
/// them; and one headless Chromium.
/// </summary>
public sealed class LivePipeline : IAsyncLifetime
{
    public const string Collection = "live pipeline";

    private readonly CancellationTokenSource _stopStatus = new();
    private readonly StringWriter _statusOut = new(), _statusError = new();
    private readonly List<string> _directories = [];
    private Task<int>? _status;

    internal PipelineUnderTest Pipeline { get; private set; } = null!;
    internal TemporaryDatabase Database { get; private set; } = null!;
    internal EdgeProcess Edge { get; private set; } = null!;
    internal PipelineProcess Scratch { get; private set; } = null!;
    internal HeadlessChromium Browser { get; private set; } = null!;
    internal Uri StatusUrl { get; private set; } = null!;

    /// <summary>The processes' admin URLs, as <c>--worker</c> takes them.</summary>
    internal List<string> Workers { get; } = [];

    public async Task InitializeAsync()
    {
        // Its tests need the embedded cluster; on another backend they report skipped, and nothing is started.
        if (KafkaBackend.Kind != KafkaBackendKind.Embedded) return;
        Pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 3);
        Database = await PostgresServer.Instance.CreateDatabaseAsync();
        Edge = await Pipeline.StartEdgeAsync();
        var quick = new Dictionary<string, string> { ["Consumer__SessionTimeout"] = "00:00:06", ["Consumer__DrainTimeout"] = "00:00:03" };
        var noc = await Pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Postgres", ["--postgres", Database.ConnectionString, "--batch-wait", "00:00:00.300"], quick);
        var topk = await Pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.TopK", ["--postgres", Database.ConnectionString, "--batch-wait", "00:00:00.300"],
            new Dictionary<string, string>(quick) { ["TopK__CloseInterval"] = "00:00:00.500" });
        var files = await Pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Files", ["--output", Folder("files-"), "--batch-wait", "00:00:00.200"], quick);
        Scratch = await Pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Files",
            ["--group", "scratch_team", "--output", Folder("scratch-"), "--batch-wait", "00:00:00.200"], quick);
        foreach (var (name, process) in new[] { ("noc", noc), ("topk", topk), ("files", files), ("scratch", Scratch) })
            Workers.Add($"{name}={new Uri(process.HealthUrl!).GetLeftPart(UriPartial.Authority)}");

        var port = FreePort.Next();
        StatusUrl = new Uri($"http://127.0.0.1:{port}/");
        _status = OpsCommandLine.RunAsync(["status", "--http", $"127.0.0.1:{port}", .. CommonArguments(), "--interval", "1s"],
            new OpsSeams(), _statusOut, _statusError, _stopStatus.Token);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.True(async () =>
        {
            if (_status.IsCompleted) throw new InvalidOperationException($"ops status exited with {await _status}: {_statusError}");
            try
            {
                return (await http.GetAsync(new Uri(StatusUrl, "/healthz"))).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "the status page answers");
        Browser = await HeadlessChromium.LaunchAsync();
    }

    /// <summary>What <c>status</c> and <c>top</c> are given: Kafka, the database of the exactly-once sinks, the edge and each worker.</summary>
    internal string[] CommonArguments() =>
        ["--kafka", Pipeline.Kafka.BootstrapServers, "--postgres", Database.ConnectionString, "--edge", Edge.HttpUrl, "--worker", string.Join(",", Workers)];

    /// <summary>Sends syslog lines over TCP to the edge (RFC 5424, facility user), paced or (0) as fast as it takes them; bounded by the count.</summary>
    internal Task<int> SendAsync(int count, Func<int, (string Host, string App, int Severity, string Message)> line, int perSecond = 0) =>
        SyslogSender.SendTcpAsync(Edge.SyslogPort, count, perSecond, n =>
        {
            var (host, app, severity, message) = line(n);
            return string.Create(CultureInfo.InvariantCulture, $"<{8 + severity}>1 {DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {host} {app} - - - {message}");
        });

    /// <summary>The snapshot the page is showing now, read from its own API.</summary>
    internal async Task<JsonElement> StatusAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(StatusUrl, "/api/status")));
        return document.RootElement.GetProperty("snapshot").Clone();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        await _stopStatus.CancelAsync();
        if (_status is not null) await _status;
        if (Pipeline is not null) await Pipeline.DisposeAsync();
        if (Database is not null) await Database.DisposeAsync();
        foreach (var directory in _directories.Where(Directory.Exists)) Directory.Delete(directory, recursive: true);
        _stopStatus.Dispose();
    }

    private string Folder(string prefix)
    {
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        _directories.Add(path);
        return path;
    }
}

/// <summary>The status page's tests and <c>ops top</c>'s share one running pipeline.</summary>
[CollectionDefinition(LivePipeline.Collection)]
public sealed class LivePipelineCollection : ICollectionFixture<LivePipeline>;
