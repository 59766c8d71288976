using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Forwarding;
using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.UnitTests.Siem;

public sealed class CefForwardingTests
{
    private static readonly SiemOptions Options = SiemTestData.ShippedOptions();
    private static readonly Dictionary<string, string> Titles = Options.Classification.ToDictionary(c => c.Name, c => c.Title ?? c.Name);

    private static ArchivedRecord Archived(string app, string message, long seq = 42)
    {
        var e = SiemTestData.Syslog(app, message);
        var (doc, _) = new EcsNormaliser(new Classifier(Options.Classification)).Normalise(SiemTestData.Record(e, 7), e, null, SiemTestData.T0);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            doc.WriteTo(writer);
        return new ArchivedRecord(seq, "event", new string('a', 64), "syslog", 0, 7, stream.ToArray());
    }

    [Fact]
    public void HeaderFieldsEscapePipesAndBackslashes()
    {
        var text = new StringBuilder();
        CefFormatter.Header(text, "a|b\\c\nd");

        Assert.Equal("a\\|b\\\\c d|", text.ToString());
    }

    [Fact]
    public void ExtensionValuesEscapeEqualsBackslashesAndLineBreaks()
    {
        var text = new StringBuilder();
        CefFormatter.Extension(text, "x=1\\2\r\nthree\nfour\rfive|six");

        Assert.Equal("x\\=1\\\\2\\nthree\\nfour\\rfive|six", text.ToString());
        Assert.Equal("x=1\\2\nthree\nfour\rfive|six", CefFormatter.Unescape(text.ToString()));
    }

    [Fact]
    public void AClassifiedEventBecomesAnRfc5424MessageCarryingItsCefAndTheArchiveSeqAndHash()
    {
        var record = Archived("sshd", "Failed password for root from 203.0.113.66 port 40210 ssh2");

        var message = CefSyslogDestination.Message(record, new ForwarderOptions { Type = "cef-syslog", Endpoint = "x:1" }, Titles);

        // authpriv (10) * 8 + warning (4): CEF severity 5 maps to syslog warning.
        Assert.StartsWith("<84>1 2025-03-12T09:58:00.000000Z bastion01 telemetry-pipeline - event - CEF:0|Pipeline|telemetry-pipeline|1.0|sshd-failed-password|SSH login failed|5|", message, StringComparison.Ordinal);
        Assert.Contains(" src=203.0.113.66 spt=40210 ", message, StringComparison.Ordinal);
        Assert.Contains(" suser=root ", message, StringComparison.Ordinal);
        Assert.Contains(" act=ssh_login outcome=failure ", message, StringComparison.Ordinal);
        Assert.Contains(" cs1Label=archiveSeq cs1=42 cs2Label=archiveHash cs2=" + new string('a', 64), message, StringComparison.Ordinal);
        Assert.EndsWith(" msg=Failed password for root from 203.0.113.66 port 40210 ssh2", message, StringComparison.Ordinal);
        Assert.Contains("rt=1741773480000", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnclassifiedEventIsForwardedAsUnclassifiedWithItsSyslogSeverity()
    {
        var record = Archived("cron", "job done = ok");

        var cef = CefFormatter.Format(record, Titles, 4000);

        Assert.StartsWith("CEF:0|Pipeline|telemetry-pipeline|1.0|unclassified|cron event|3|", cef, StringComparison.Ordinal);
        Assert.EndsWith("msg=job done \\= ok", cef, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverTlsTheFramesAreOctetCountedAndTheServerIsTrustedThroughTheConfiguredCaFile()
    {
        using var dir = new TempDir();
        using var certificate = SelfSigned("siem.test");
        var caFile = Path.Combine(dir.Path, "ca.pem");
        await File.WriteAllTextAsync(caFile, certificate.ExportCertificatePem());
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var received = ReceiveFramesAsync(listener, certificate, 2);
        var options = new ForwarderOptions
        {
            Type = "cef-syslog", Endpoint = $"127.0.0.1:{port}",
            Tls = new TlsOptions { Enabled = true, CaFile = caFile, ServerName = "siem.test" },
        };
        var records = new[] { Archived("sshd", "Accepted password for bob from 198.51.100.23 port 60211 ssh2", 1), Archived("app", "héllo\nwörld", 2) };
        await using var destination = new CefSyslogDestination(options, "tls-test", Titles, NullLogger.Instance);

        var batch = new OutgoingBatch(records, 2, new ArchiveCursor(1, 10, 2));
        await destination.SendAsync(batch, CancellationToken.None);

        Assert.True(batch.Confirmed);
        var frames = await received.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(records.Select(r => CefSyslogDestination.Message(r, options, Titles)), frames);
    }

    [Fact]
    public async Task OverTlsAServerNoConfiguredAuthorityVouchesForIsRefused()
    {
        using var certificate = SelfSigned("siem.test");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = ReceiveFramesAsync(listener, certificate, 1);
        var options = new ForwarderOptions { Type = "cef-syslog", Endpoint = $"127.0.0.1:{port}", Tls = new TlsOptions { Enabled = true, ServerName = "siem.test" } };
        await using var destination = new CefSyslogDestination(options, "tls-test", Titles, NullLogger.Instance);

        await Assert.ThrowsAnyAsync<Exception>(() => destination.SendAsync(new OutgoingBatch([Archived("app", "x")], 1, ArchiveCursor.Start), CancellationToken.None));
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null);
    }

    /// <summary>A TLS syslog receiver: reads octet-counted frames (<c>LEN SP MSG</c>).</summary>
    private static async Task<List<string>> ReceiveFramesAsync(TcpListener listener, X509Certificate2 certificate, int count)
    {
        using var client = await listener.AcceptTcpClientAsync();
        await using var tls = new SslStream(client.GetStream());
        try
        {
            await tls.AuthenticateAsServerAsync(certificate);
        }
        catch (Exception)
        {
            return [];
        }
        var frames = new List<string>();
        var buffer = new List<byte>();
        var chunk = new byte[4096];
        while (frames.Count < count)
        {
            var read = await tls.ReadAsync(chunk);
            if (read == 0) break;
            buffer.AddRange(chunk.AsSpan(0, read));
            while (true)
            {
                var space = buffer.IndexOf((byte)' ');
                if (space < 0) break;
                var length = int.Parse(Encoding.ASCII.GetString(buffer.GetRange(0, space).ToArray()), System.Globalization.CultureInfo.InvariantCulture);
                if (buffer.Count < space + 1 + length) break;
                frames.Add(Encoding.UTF8.GetString(buffer.GetRange(space + 1, length).ToArray()));
                buffer.RemoveRange(0, space + 1 + length);
            }
        }
        return frames;
    }
}
