using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

public sealed class SyslogTransportTests
{
    [KafkaFact]
    public async Task LoggerOverUdpTcpAndOctetCountedTcpReachKafkaWithTheRightFields()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        var port = edge.SyslogPort.ToString();
        await Peers.RunAsync("logger", ["--udp", "-n", "127.0.0.1", "-P", port, "--rfc5424", "-t", "via-udp", "-p", "auth.err", "over udp"]);
        await Peers.RunAsync("logger", ["--tcp", "-n", "127.0.0.1", "-P", port, "--rfc3164", "-t", "via-tcp", "-p", "local7.info", "over tcp lf"]);
        await Peers.RunAsync("logger", ["--tcp", "--octet-count", "-n", "127.0.0.1", "-P", port, "--rfc5424", "--msgid", "ID47", "--sd-id", "zoo@123", "--sd-param", "tiger=\"hungry\"",
            "-t", "via-octets", "-p", "daemon.warning", "over tcp octet counted"]);

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), 3, TimeSpan.FromSeconds(30)).ToDictionary(e => e.Syslog!.AppName!);

        var udp = events["via-udp"];
        Assert.Equal(("udp", 4, 3, "over udp", "5424"), (udp.Source.Transport, udp.Syslog!.Facility, udp.Syslog.Severity, udp.Message, udp.Syslog.Rfc));
        var lf = events["via-tcp"];
        Assert.Equal(("tcp", 23, 6, "over tcp lf", "3164"), (lf.Source.Transport, lf.Syslog!.Facility, lf.Syslog.Severity, lf.Message, lf.Syslog.Rfc));
        var octets = events["via-octets"];
        Assert.Equal(("tcp", 3, 4, "over tcp octet counted", "ID47"), (octets.Source.Transport, octets.Syslog!.Facility, octets.Syslog.Severity, octets.Message, octets.Syslog.Msgid));
        Assert.Equal("hungry", octets.Syslog.StructuredData!["zoo@123"]["tiger"]);
        Assert.All(events.Values, e =>
        {
            Assert.Equal(Peers.HostName, e.Syslog!.Hostname);
            Assert.Equal("127.0.0.1", e.Source.Ip);
            Assert.Equal("ok", e.ParseStatus);
            Assert.Equal(26, e.Id.Length);
            Assert.False(string.IsNullOrEmpty(e.Raw));
        });
    }

    [KafkaFact]
    public async Task AnUnparseableLineIsShippedRawWithItsParseError()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", edge.SyslogPort);
            await client.GetStream().WriteAsync("no priority, no header, just text\n"u8.ToArray());
        }
        var e = Assert.Single(TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), 1, TimeSpan.FromSeconds(30)));
        Assert.Equal("no priority, no header, just text", e.Raw);
        Assert.NotEqual("ok", e.ParseStatus);
        Assert.False(string.IsNullOrEmpty(e.ParseError));
    }

    [KafkaFact]
    public async Task TlsSyslogWithOctetCountingIsAcceptedFromAClientThatTrustsTheEdgeCertificate()
    {
        var directory = Directory.CreateTempSubdirectory("edge-tls-").FullName;
        try
        {
            var (certFile, keyFile, certificate) = SelfSigned(directory);
            var tlsPort = FreePort.Next();
            await using var pipeline = PipelineUnderTest.Start(brokers: 1);
            await pipeline.StartEdgeAsync([
                "--Edge:Listeners:syslog-tls:Protocol=Tls", $"--Edge:Listeners:syslog-tls:Bind=127.0.0.1:{tlsPort}",
                $"--Edge:Listeners:syslog-tls:CertificateFile={certFile}", $"--Edge:Listeners:syslog-tls:KeyFile={keyFile}"]);

            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", tlsPort);
            await using var tls = new SslStream(client.GetStream(), false, (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString());
            await tls.AuthenticateAsClientAsync("localhost");
            foreach (var n in new[] { 1, 2, 3 })
            {
                var line = Encoding.UTF8.GetBytes(SyslogSender.Line("over-tls", n));
                await tls.WriteAsync(Encoding.ASCII.GetBytes(line.Length + " ").Concat(line).ToArray());
            }
            await tls.FlushAsync();

            var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), 3, TimeSpan.FromSeconds(30));
            Assert.Equal(["over-tls seq=1", "over-tls seq=2", "over-tls seq=3"], events.Select(e => e.Message!).Order());
            Assert.All(events, e => Assert.Equal("tls", e.Source.Transport));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task TheParseCommandWritesTheEnvelopeOfEachLineOnStdout()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Repository.Executable("producer/Pipeline.Edge"));
        info.ArgumentList.Add("parse");
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync("""
            <34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8
            <13>Feb  5 17:32:18 web-1 sshd[4242]: Accepted password for alice from 10.0.0.9 port 5122 ssh2
            this line is not syslog

            """);
        process.StandardInput.Close();
        var lines = (await process.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Equal(3, lines.Length);
        var events = lines.Select(l => EnvelopeCodec.Decode(Encoding.UTF8.GetBytes(l))).ToList();
        Assert.Equal(("mymachine.example.com", "su", 4, 2, "ID47"), (events[0].Syslog!.Hostname, events[0].Syslog!.AppName, events[0].Syslog!.Facility, events[0].Syslog!.Severity, events[0].Syslog!.Msgid));
        Assert.Equal(("web-1", "sshd", "4242"), (events[1].Syslog!.Hostname, events[1].Syslog!.AppName, events[1].Syslog!.Procid));
        Assert.Equal("this line is not syslog", events[2].Raw);
        Assert.NotEqual("ok", events[2].ParseStatus);
        Assert.All(lines, l => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(l).RootElement.ValueKind));
    }

    private static (string CertFile, string KeyFile, X509Certificate2 Certificate) SelfSigned(string directory)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var certFile = Path.Combine(directory, "edge.crt");
        var keyFile = Path.Combine(directory, "edge.key");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile, certificate);
    }
}
