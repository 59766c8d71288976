using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Pipeline.Edge.Sources;

/// <summary>
/// A listener's TLS, from PEM files (the same settings for syslog over TLS and for HTTPS): the certificate it
/// presents, and, with <c>ClientCaFile</c>, the CAs whose client certificates it accepts (mutual TLS: a client
/// without one, or with one from another CA, is refused during the handshake).
/// </summary>
internal sealed class ListenerTls
{
    /// <summary>TLS 1.2 and 1.3 only.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly X509Certificate2Collection? _clientCa;

    private ListenerTls(ListenerOptions options)
    {
        Certificate = X509Certificate2.CreateFromPemFile(options.CertificateFile!, options.KeyFile);
        if (options.ClientCaFile is { } ca)
        {
            _clientCa = [];
            _clientCa.ImportFromPemFile(ca);
            if (_clientCa.Count == 0) throw new ArgumentException($"ClientCaFile '{ca}' holds no certificate");
        }
        HandshakeTimeout = options.HandshakeTimeout;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>True when clients must present a certificate from the configured CAs.</summary>
    public bool RequiresClientCertificate => _clientCa is not null;

    /// <summary>How long a client may take to complete the handshake.</summary>
    public TimeSpan HandshakeTimeout { get; }

    /// <summary>The TLS of a listener with a certificate, else null (plain TCP or HTTP).</summary>
    public static ListenerTls? For(ListenerOptions options) => options.CertificateFile is null ? null : new ListenerTls(options);

    /// <summary>True when <paramref name="certificate"/> chains to one of the configured CAs (any certificate, when none is configured).</summary>
    public bool AcceptsClient(X509Certificate? certificate)
    {
        if (_clientCa is null) return true;
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_clientCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (certificate is X509Certificate2 full) return chain.Build(full);
        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(copy);
    }
}
