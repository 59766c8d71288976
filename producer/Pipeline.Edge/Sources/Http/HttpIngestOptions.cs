using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Edge.Sources.Http;

/// <summary>HTTP and WebSocket ingest (section <c>Edge:Http</c>).</summary>
public sealed class HttpIngestOptions
{
    /// <summary>Bearer tokens and the tenant each one stands for. Put tokens in the environment, e.g.
    /// <c>Edge__Http__Tokens__0__Tenant=acme</c>, <c>Edge__Http__Tokens__0__Token=…</c>, or give only their SHA-256.</summary>
    public List<IngestToken> Tokens { get; set; } = [];

    /// <summary>Accept requests without a token. Default false.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Tenant of anonymous requests. Default none.</summary>
    public string? AnonymousTenant { get; set; }

    /// <summary>Largest request body, before and after gzip decoding; larger is 413. Default 10 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 10L << 20;

    /// <summary>Largest single event (NDJSON line, WebSocket message); never more than <see cref="MaxBodyBytes"/>. Default 1 MiB.</summary>
    public int MaxEventBytes { get; set; } = 1 << 20;

    internal int EventLimit => (int)Math.Min(MaxEventBytes, MaxBodyBytes);

    /// <summary>With <c>?ack=kafka</c>, how long a request waits for Kafka's acknowledgements. Default 30 s.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retry-After (seconds) on 503 when buffers are full. Default 5.</summary>
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>Request headers never stored with a stream (credentials). Compared without regard to case.</summary>
    public List<string> RedactHeaders { get; set; } = ["authorization", "cookie", "proxy-authorization", "x-api-key", "x-splunk-token"];

    public void Validate()
    {
        if (MaxBodyBytes < 1024) throw new ArgumentException("Edge:Http:MaxBodyBytes must be at least 1024");
        if (MaxEventBytes < 64) throw new ArgumentException("Edge:Http:MaxEventBytes must be at least 64");
        if (AckTimeout <= TimeSpan.Zero) throw new ArgumentException("Edge:Http:AckTimeout must be positive");
        for (var i = 0; i < Tokens.Count; i++)
        {
            var t = Tokens[i];
            if (string.IsNullOrWhiteSpace(t.Tenant)) throw new ArgumentException($"Edge:Http:Tokens:{i}: Tenant is required");
            if (string.IsNullOrEmpty(t.Token) == string.IsNullOrEmpty(t.TokenSha256))
                throw new ArgumentException($"Edge:Http:Tokens:{i} (tenant {t.Tenant}): give exactly one of Token or TokenSha256");
            if (t.TokenSha256 is { } hash && (hash.Length != 64 || !hash.All(Uri.IsHexDigit)))
                throw new ArgumentException($"Edge:Http:Tokens:{i} (tenant {t.Tenant}): TokenSha256 must be 64 hex digits");
        }
    }
}

/// <summary>One ingest token.</summary>
public sealed class IngestToken
{
    public string Tenant { get; set; } = "";
    /// <summary>The token itself (from the environment or a secret file, never a committed file).</summary>
    public string? Token { get; set; }
    /// <summary>Or its SHA-256, hex, so the configuration never holds the secret.</summary>
    public string? TokenSha256 { get; set; }

    internal byte[] Hash() => TokenSha256 is { } hex ? Convert.FromHexString(hex) : SHA256.HashData(Encoding.UTF8.GetBytes(Token!));
}
