using System.Security.Cryptography.X509Certificates;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// Certificates made with openssl, as an operator would make them: a CA, a server certificate it signed for
/// 127.0.0.1 and localhost, a client certificate it signed, and a client certificate signed by another CA. PEM
/// files in a directory of their own, deleted on dispose.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private TestCertificates(string directory) => Directory = directory;

    public string Directory { get; }
    public string CaFile => Path.Combine(Directory, "ca.pem");
    public string ServerCertificate => Path.Combine(Directory, "server.pem");
    public string ServerKey => Path.Combine(Directory, "server.key");
    public string ClientCertificate => Path.Combine(Directory, "client.pem");
    public string ClientKey => Path.Combine(Directory, "client.key");
    /// <summary>A client certificate from a CA the edge does not know.</summary>
    public string StrangerCertificate => Path.Combine(Directory, "stranger.pem");
    public string StrangerKey => Path.Combine(Directory, "stranger.key");

    public static async Task<TestCertificates> CreateAsync()
    {
        var certificates = new TestCertificates(System.IO.Directory.CreateTempSubdirectory("pipeline-certs-").FullName);
        await certificates.CaAsync("ca", "pipeline test CA");
        await certificates.CaAsync("other-ca", "another CA");
        await certificates.SignedAsync("server", "localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        await certificates.SignedAsync("client", "device-1", "ca", "extendedKeyUsage=clientAuth\n");
        await certificates.SignedAsync("stranger", "device-2", "other-ca", "extendedKeyUsage=clientAuth\n");
        return certificates;
    }

    /// <summary>A certificate and key loaded from two of these PEM files (for .NET clients).</summary>
    public static X509Certificate2 Load(string certificate, string key) => X509Certificate2.CreateFromPemFile(certificate, key);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private Task CaAsync(string name, string subject) => OpensslAsync("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", File(name + ".key"), "-out", File(name + ".pem"), "-days", "2", "-subj", "/CN=" + subject);

    private async Task SignedAsync(string name, string subject, string ca, string extensions)
    {
        await OpensslAsync("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", File(name + ".key"), "-out", File(name + ".csr"), "-subj", "/CN=" + subject);
        await System.IO.File.WriteAllTextAsync(File(name + ".ext"), extensions);
        await OpensslAsync("x509", "-req", "-in", File(name + ".csr"), "-CA", File(ca + ".pem"), "-CAkey", File(ca + ".key"), "-CAcreateserial",
            "-days", "2", "-extfile", File(name + ".ext"), "-out", File(name + ".pem"));
    }

    private string File(string name) => Path.Combine(Directory, name);

    private static Task OpensslAsync(params string[] args) => Peers.RunAsync("openssl", args);
}
