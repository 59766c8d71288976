using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Ops;

/// <summary>
/// The forwarding configurations of infra/ that docs/walkthroughs.md tells users to install, run by the
/// real daemons against a running edge (UDP and TCP rsyslog: EndToEnd/RsyslogForwardingTests).
/// </summary>
public sealed class ForwardingConfigTests
{
    [Fact]
    public async Task TheRsyslogTlsConfigDeliversToTheEdgesTlsListenerWhoseCertificateItVerifiesByName()
    {
        Peers.Require("/usr/sbin/rsyslogd", "rsyslog");
        Peers.Require("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so", "rsyslog-gnutls");
        var directory = Directory.CreateTempSubdirectory("rsyslog-tls-").FullName;
        try
        {
            var (caFile, certFile, keyFile) = EdgeCertificate(directory);
            var tlsPort = FreePort.Next();
            await using var pipeline = PipelineUnderTest.Start(brokers: 1);
            var edge = await pipeline.StartEdgeAsync([
                "--Edge:Listeners:syslog-tls:Protocol=Tls", $"--Edge:Listeners:syslog-tls:Bind=127.0.0.1:{tlsPort}",
                $"--Edge:Listeners:syslog-tls:CertificateFile={certFile}", $"--Edge:Listeners:syslog-tls:KeyFile={keyFile}"]);
            await using var rsyslog = await RsyslogInstance.StartAsync("60-pipeline-tls.conf", "127.0.0.1", edge.SyslogPort, new Dictionary<string, string>
            {
                ["port=\"6514\""] = $"port=\"{tlsPort}\"",
                ["EDGE_NAME"] = "edge.pipeline.test",
                ["/etc/rsyslog.d/pipeline-edge-ca.pem"] = caFile,
            });

            var lines = await SendAsync(rsyslog.InputPort, "through rsyslog tls", octetCount: false);

            var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog", lines.Count, TimeSpan.FromSeconds(60));
            AssertForwarded(lines, events, "tls");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task TheSyslogNgConfigDeliversToTheEdgeOverTcpWithOctetCounting()
    {
        var config = await File.ReadAllTextAsync(Repository.Path_("infra", "syslog-ng", "pipeline.conf"));
        Assert.Contains("syslog(\"EDGE_HOST\" transport(\"tcp\") port(5514)", config, StringComparison.Ordinal);
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        await using var syslogNg = await SyslogNgInstance.StartAsync("pipeline.conf", "127.0.0.1", edge.SyslogPort);

        var lines = await SendAsync(syslogNg.InputPort, "through syslog-ng", octetCount: true);

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog", lines.Count, TimeSpan.FromSeconds(60));
        AssertForwarded(lines, events, "tcp");
    }

    private static async Task<List<string>> SendAsync(int port, string text, bool octetCount)
    {
        var lines = Enumerable.Range(0, 20).Select(i => string.Create(CultureInfo.InvariantCulture, $"{text} {i}")).ToList();
        foreach (var line in lines)
            await Peers.RunAsync("logger", [.. (octetCount ? new[] { "--octet-count" } : []), "--tcp", "--server", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                "--rfc5424", "-t", "forwarded", "-p", "daemon.notice", line]);
        return lines;
    }

    private static void AssertForwarded(List<string> lines, List<TelemetryEvent> events, string transport)
    {
        Assert.Equal(lines.Order(StringComparer.Ordinal), events.Select(e => e.Message!).Order(StringComparer.Ordinal));
        Assert.All(events, e =>
        {
            Assert.Equal("forwarded", e.Syslog!.AppName);
            Assert.Equal(3, e.Syslog.Facility);
            Assert.Equal(5, e.Syslog.Severity);
            Assert.Equal("5424", e.Syslog.Rfc);
            Assert.Equal(Peers.HostName, e.Syslog.Hostname);
            Assert.Equal(transport, e.Source.Transport);
        });
    }

    /// <summary>A CA and an edge certificate it signed for edge.pipeline.test and 127.0.0.1, as PEM files: (CA, certificate, key).</summary>
    private static (string Ca, string Certificate, string Key) EdgeCertificate(string directory)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=pipeline test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=edge.pipeline.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("edge.pipeline.test");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(20), RandomNumberGenerator.GetBytes(8));

        var caFile = Path.Combine(directory, "ca.pem");
        var certFile = Path.Combine(directory, "edge.crt");
        var keyFile = Path.Combine(directory, "edge.key");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (caFile, certFile, keyFile);
    }
}
