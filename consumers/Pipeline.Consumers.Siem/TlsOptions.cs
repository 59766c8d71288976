namespace Pipeline.Consumers.Siem;

/// <summary>TLS for a forwarder.</summary>
public sealed class TlsOptions
{
    /// <summary>cef-syslog: wrap the connection in TLS. Default false (hec follows the URL scheme).</summary>
    public bool Enabled { get; set; }

    /// <summary>PEM file of the CA that signs the SIEM's certificate, when it is not in the system store. Default none.</summary>
    public string? CaFile { get; set; }

    /// <summary>Name expected in the SIEM's certificate. Default: the endpoint's host.</summary>
    public string? ServerName { get; set; }

    /// <summary>Accept any certificate (testing only). Default false.</summary>
    public bool AllowUntrusted { get; set; }
}
