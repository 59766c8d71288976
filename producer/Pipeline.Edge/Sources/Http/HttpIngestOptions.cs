using Pipeline.Core.Security;

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

    /// <summary>Limits on how many ingest requests one token and one source address may make (off by default).</summary>
    public RateLimitSet RateLimits { get; set; } = new();

    /// <summary>How long a client may take to send a request's headers; a slower one is answered 408 and closed. Default 30 s.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an idle keep-alive connection stays open. Default 2 minutes.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Slowest request body accepted, in bytes per second averaged after <see cref="MinRequestBodyGracePeriod"/>;
    /// a slower sender is answered 408 and closed, so a trickle cannot hold a connection and a buffer. 0: no minimum.
    /// Default 240 (Kestrel's).
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a body may start slowly before <see cref="MinRequestBodyBytesPerSecond"/> applies (at least 1 s). Default 5 s.</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    public void Validate()
    {
        if (MaxBodyBytes < 1024) throw new ArgumentException("Edge:Http:MaxBodyBytes must be at least 1024");
        if (MaxEventBytes < 64) throw new ArgumentException("Edge:Http:MaxEventBytes must be at least 64");
        if (AckTimeout <= TimeSpan.Zero) throw new ArgumentException("Edge:Http:AckTimeout must be positive");
        if (RequestHeadersTimeout <= TimeSpan.Zero) throw new ArgumentException("Edge:Http:RequestHeadersTimeout must be positive");
        if (KeepAliveTimeout <= TimeSpan.Zero) throw new ArgumentException("Edge:Http:KeepAliveTimeout must be positive");
        if (MinRequestBodyBytesPerSecond < 0) throw new ArgumentException("Edge:Http:MinRequestBodyBytesPerSecond must not be negative");
        // Kestrel checks rates once a second: a shorter grace period could not be honoured.
        if (MinRequestBodyBytesPerSecond > 0 && MinRequestBodyGracePeriod < TimeSpan.FromSeconds(1))
            throw new ArgumentException("Edge:Http:MinRequestBodyGracePeriod must be at least 1 s");
        RateLimits.PerToken.Validate("Edge:Http:RateLimits:PerToken");
        RateLimits.PerAddress.Validate("Edge:Http:RateLimits:PerAddress");
        for (var i = 0; i < Tokens.Count; i++)
        {
            var t = Tokens[i];
            if (string.IsNullOrWhiteSpace(t.Tenant)) throw new ArgumentException($"Edge:Http:Tokens:{i}: Tenant is required");
            t.Validate($"Edge:Http:Tokens:{i} (tenant {t.Tenant})");
        }
    }
}

/// <summary>One ingest token: a bearer token (or its SHA-256) and the tenant it stands for.</summary>
public sealed class IngestToken : AccessToken
{
    public string Tenant { get; set; } = "";
}

/// <summary>The rate limits of HTTP ingest (section <c>Edge:Http:RateLimits</c>).</summary>
public sealed class RateLimitSet
{
    /// <summary>Requests each ingest token may make; unknown tokens and anonymous requests have none of their own. Default off.</summary>
    public RateLimitOptions PerToken { get; set; } = new();

    /// <summary>Requests each source address may make, whatever its token (behind a proxy, the proxy's address). Default off.</summary>
    public RateLimitOptions PerAddress { get; set; } = new();
}

/// <summary>
/// A token bucket: <see cref="Requests"/> per <see cref="Period"/> on average, up to <see cref="Burst"/> at once. A
/// request beyond it is answered 429 with Retry-After. A WebSocket stream counts as one request.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests per <see cref="Period"/>; 0 turns the limit off. Default 0.</summary>
    public int Requests { get; set; }

    /// <summary>The period <see cref="Requests"/> are counted over. Default 1 s.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Requests that may come at once after a quiet while; 0 means <see cref="Requests"/>. Default 0.</summary>
    public int Burst { get; set; }

    public bool Enabled => Requests > 0;

    internal void Validate(string where)
    {
        if (Requests < 0 || Burst < 0) throw new ArgumentException($"{where}: Requests and Burst must not be negative");
        if (Enabled && Period < TimeSpan.FromMilliseconds(100)) throw new ArgumentException($"{where}: Period must be at least 100 ms");
    }
}
