using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Pipeline.Consumers.Siem.Forwarding;

/// <summary>How a forwarder decides to trust the SIEM's certificate: the system store, a CA file of its own, or (tests only) anything.</summary>
internal static class TlsTrust
{
    public static RemoteCertificateValidationCallback? Callback(TlsOptions tls)
    {
#pragma warning disable CA5359 // Opt-in for tests against self-signed endpoints; off by default and documented as testing only.
        if (tls.AllowUntrusted) return static (_, _, _, _) => true;
#pragma warning restore CA5359
        if (tls.CaFile is null) return null;
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(tls.CaFile);
        return (_, certificate, _, errors) =>
        {
            if (certificate is null) return false;
            // Name mismatches stay fatal; only the chain is judged against our own CA.
            if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };
    }
}
