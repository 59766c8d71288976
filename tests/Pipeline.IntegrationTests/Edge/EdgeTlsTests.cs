using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

/// <summary>
/// TLS at the edge with certificates openssl made: HTTPS ingest checked with curl, mutual TLS on HTTP and on syslog
/// (a client certificate from the configured CA is accepted; none, or one from another CA, is refused and counted).
/// </summary>
public sealed class EdgeTlsTests
{
    private static string[] HttpsArgs(TestCertificates certificates, bool requireClientCertificate) =>
    [
        $"--Edge:Listeners:http:CertificateFile={certificates.ServerCertificate}", $"--Edge:Listeners:http:KeyFile={certificates.ServerKey}",
        .. requireClientCertificate ? [$"--Edge:Listeners:http:ClientCaFile={certificates.CaFile}"] : Array.Empty<string>(),
        .. TestTenant.EdgeArgs,
    ];

    /// <summary>curl POSTing one NDJSON event with the tenant's token; returns curl's exit code and the HTTP status it printed.</summary>
    private static async Task<(int Exit, string Status)> CurlAsync(string url, string body, params string[] extra)
    {
        var (exit, stdout, _) = await Peers.RunUncheckedAsync("curl",
            ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "-H", $"Authorization: Bearer {TestTenant.Token}", "--data-binary", body, .. extra, url]);
        return (exit, stdout.Trim());
    }

    [KafkaFact]
    public async Task HttpsIngestTakesEventsFromCurlThatTrustsTheEdgesCertificateAndRefusesPlainHttpOnThatPort()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(HttpsArgs(certificates, requireClientCertificate: false), adminPort: FreePort.Next());

        var https = await CurlAsync($"https://127.0.0.1:{edge.HttpPort}/v1/events", """{"msg":"over https"}""", "--cacert", certificates.CaFile);
        Assert.Equal((0, "200"), https);
        // Plain HTTP to an HTTPS port is no handshake: refused, counted.
        var plain = await CurlAsync($"http://127.0.0.1:{edge.HttpPort}/v1/events", """{"msg":"in the clear"}""");
        Assert.NotEqual("200", plain.Status);

        var e = Assert.Single(TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(("over https", TestTenant.Name, "http"), (e.Message, e.Tenant, e.Source.Transport));
        await Eventually.True(async () => (await MetricsText.ScrapeAsync(edge.Process)).Sum("edge_http_connections_refused_total", ("reason", "tls")) == 1,
            TimeSpan.FromSeconds(20), "the plain HTTP connection counted as refused");
    }

    [KafkaFact]
    public async Task WithClientCertificatesRequiredCurlWithOneFromTheCaIsAcceptedAndWithoutOneOrWithAnotherCasIsRefusedAndCounted()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(HttpsArgs(certificates, requireClientCertificate: true), adminPort: FreePort.Next());
        var url = $"https://127.0.0.1:{edge.HttpPort}/v1/events";

        var withClientCertificate = await CurlAsync(url, """{"msg":"from device-1"}""", "--cacert", certificates.CaFile,
            "--cert", certificates.ClientCertificate, "--key", certificates.ClientKey);
        var without = await CurlAsync(url, """{"msg":"no certificate"}""", "--cacert", certificates.CaFile);
        var stranger = await CurlAsync(url, """{"msg":"from another CA"}""", "--cacert", certificates.CaFile,
            "--cert", certificates.StrangerCertificate, "--key", certificates.StrangerKey);

        Assert.Equal((0, "200"), withClientCertificate);
        Assert.NotEqual(0, without.Exit);
        Assert.NotEqual(0, stranger.Exit);
        await Eventually.True(async () => (await MetricsText.ScrapeAsync(edge.Process)).Sum("edge_http_connections_refused_total", ("reason", "tls")) == 2,
            TimeSpan.FromSeconds(20), "two refused handshakes counted");
        var e = Assert.Single(TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 1, TimeSpan.FromSeconds(30)));
        Assert.Equal("from device-1", e.Message);
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(1, metrics.Sum("edge_events_received_total"));
        Assert.Contains("TLS handshake failed", edge.Process.Output, StringComparison.Ordinal);
    }

    [KafkaFact]
    public async Task SyslogOverMutualTlsTakesAClientWithACertificateFromTheCaAndRefusesAndCountsOneWithoutOneFromAnotherCaOrTooSlow()
    {
        using var certificates = await TestCertificates.CreateAsync();
        var tlsPort = FreePort.Next();
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync([
            "--Edge:Listeners:syslog-tls:Protocol=Tls", $"--Edge:Listeners:syslog-tls:Bind=127.0.0.1:{tlsPort}",
            $"--Edge:Listeners:syslog-tls:CertificateFile={certificates.ServerCertificate}", $"--Edge:Listeners:syslog-tls:KeyFile={certificates.ServerKey}",
            $"--Edge:Listeners:syslog-tls:ClientCaFile={certificates.CaFile}", "--Edge:Listeners:syslog-tls:HandshakeTimeout=00:00:02"]);

        using var device = TestCertificates.Load(certificates.ClientCertificate, certificates.ClientKey);
        using var stranger = TestCertificates.Load(certificates.StrangerCertificate, certificates.StrangerKey);
        await SendOverTlsAsync(tlsPort, device, "from-device");
        await SendOverTlsAsync(tlsPort, null, "without-certificate");
        await SendOverTlsAsync(tlsPort, stranger, "from-stranger");
        // Connects and never says hello: refused once the handshake timeout has passed.
        using var silent = new TcpClient();
        await silent.ConnectAsync("127.0.0.1", tlsPort);
        var read = await silent.GetStream().ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, read);

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), 2, TimeSpan.FromSeconds(30));
        Assert.Equal(["from-device seq=1", "from-device seq=2"], events.Select(e => e.Message!).Order());
        Assert.All(events, e => Assert.Equal("tls", e.Source.Transport));
        var metrics = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process),
            m => m.Sum("edge_tcp_connections_refused_total", ("listener", "syslog-tls"), ("reason", "tls")) == 3, TimeSpan.FromSeconds(20), "three refused handshakes");
        Assert.Equal(2, metrics.Sum("edge_tcp_frames_total", ("listener", "syslog-tls")));
        Assert.Equal(2, metrics.Sum("edge_events_received_total", ("listener", "syslog-tls")));
        Assert.Contains("no handshake within", edge.Process.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A syslog client over TLS sending two octet-counted lines; with TLS 1.3 a refused client may learn it only when it
    /// next reads, so failures are the server's to report and are not thrown here.
    /// </summary>
    private static async Task SendOverTlsAsync(int port, X509Certificate2? certificate, string app)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        await using var tls = new SslStream(client.GetStream(), false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null,
                // Sent whatever CAs the server names (as rsyslog and syslog-ng send theirs).
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate!,
                ClientCertificates = certificate is null ? null : [certificate],
            });
            foreach (var n in new[] { 1, 2 })
            {
                var line = Encoding.UTF8.GetBytes(SyslogSender.Line(app, n));
                await tls.WriteAsync(Encoding.ASCII.GetBytes(line.Length + " ").Concat(line).ToArray());
            }
            await tls.FlushAsync();
            // The server closes when done with us (refused) or keeps reading (accepted): either way, leave cleanly.
            await tls.ShutdownAsync();
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or SocketException)
        {
        }
    }
}
