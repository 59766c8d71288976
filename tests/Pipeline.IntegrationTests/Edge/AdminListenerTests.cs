using System.Net;
using System.Net.Sockets;
using System.Text;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

/// <summary>
/// /metrics and /healthz on an admin listener apart from ingest: on the edge and on a consumer; a port alone binds
/// loopback; which listener a request came in on is told by the port it reached, not by the Host header it names.
/// </summary>
public sealed class AdminListenerTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [KafkaFact]
    public async Task WithAnAdminListenerTheEdgeServesMetricsAndHealthThereOnlyAndItsIngestPortServesIngestOnly()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var adminPort = FreePort.Next();
        var edge = await pipeline.StartEdgeAsync(adminPort: adminPort);
        var admin = $"http://127.0.0.1:{adminPort}";

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, admin + "/healthz"));
        Assert.Contains("edge_spool_bytes", await Http.GetStringAsync(admin + "/metrics"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, edge.HttpUrl + "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, edge.HttpUrl + "/healthz"));
        // A Host header naming the admin port changes nothing: the port the connection reached decides.
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, edge.HttpUrl + "/metrics", $"127.0.0.1:{adminPort}"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Post, edge.HttpUrl + "/v1/events", body: """{"msg":"ingest port"}"""));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Post, admin + "/v1/events", body: """{"msg":"admin port"}"""));
        var e = Assert.Single(TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 1, TimeSpan.FromSeconds(30)));
        Assert.Equal("ingest port", e.Message);

        // `--admin PORT` is 127.0.0.1:PORT: another loopback address of this host finds nothing there.
        using var elsewhere = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => elsewhere.ConnectAsync(IPAddress.Parse("127.0.0.2"), adminPort));
    }

    [KafkaFact]
    public async Task AConsumersAdminListenerServesMetricsAndHealthAndItsHttpPortNoLonger()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var (adminPort, httpPort) = (FreePort.Next(), FreePort.Next());
        var files = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Files", ["--group", "files-" + Guid.NewGuid().ToString("N")[..8], "--output", "-"],
            adminPort: adminPort, httpPort: httpPort);

        Assert.Contains("consumer_", await files.GetAsync("/metrics"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, $"http://127.0.0.1:{httpPort}/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, $"http://127.0.0.1:{httpPort}/healthz"));
    }

    [Fact]
    public async Task AnAdminListenerOnAPortAnotherListenerHasIsAConfigurationError()
    {
        var port = FreePort.Next();
        await using var edge = PipelineProcess.Start("producer/Pipeline.Edge", ["--kafka", "127.0.0.1:1", "--http", $"127.0.0.1:{port}", "--admin", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--syslog-udp", $"127.0.0.1:{FreePort.Next()}", "--syslog-tcp", $"127.0.0.1:{FreePort.Next()}"]);
        await Eventually.True(() => edge.HasExited, TimeSpan.FromSeconds(30), "the edge to exit");
        Assert.Equal(2, edge.ExitCode);
        Assert.Contains("Admin:Bind", edge.Output, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpMethod method, string url, string? host = null, string? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (host is not null) request.Headers.Host = host;
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/x-ndjson");
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }
}
