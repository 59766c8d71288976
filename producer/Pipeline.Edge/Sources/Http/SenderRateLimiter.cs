using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Pipeline.Edge.Sources.Http;

/// <summary>Marks an ingest endpoint: the endpoints the limits per sender apply to.</summary>
internal sealed class IngestEndpoint
{
    public static readonly IngestEndpoint Instance = new();

    private IngestEndpoint()
    {
    }
}

/// <summary>
/// The limits per sender of HTTP ingest, as ASP.NET Core's rate limiter (its global limiter): a token bucket per source
/// address and one per ingest token, on ingest endpoints only (never on /metrics or /healthz). A refused request is
/// answered 429 with Retry-After, and counted by which limit refused it (<c>address</c> or <c>token</c>).
/// </summary>
internal sealed class SenderRateLimiter : PartitionedRateLimiter<HttpContext>
{
    public const string Address = "address";
    public const string Token = "token";

    private readonly PartitionedRateLimiter<HttpContext>? _perAddress;
    private readonly PartitionedRateLimiter<HttpContext>? _perToken;

    public SenderRateLimiter(RateLimitSet limits, IngestAuthenticator auth)
    {
        if (limits.PerAddress.Enabled)
            _perAddress = PartitionedRateLimiter.Create<HttpContext, IPAddress>(context =>
                RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress ?? IPAddress.None, _ => Bucket(limits.PerAddress)));
        // Only known tokens have a bucket: an unknown one is refused with 401 anyway, and must not grow the table.
        if (limits.PerToken.Enabled)
            _perToken = PartitionedRateLimiter.Create<HttpContext, int>(context => auth.Authenticate(context.Request) is { Allowed: true, Token: { } token }
                ? RateLimitPartition.GetTokenBucketLimiter(token, _ => Bucket(limits.PerToken))
                : RateLimitPartition.GetNoLimiter(-1));
    }

    /// <summary>True when any limit is on (else nothing is registered and requests never meet a limiter).</summary>
    public static bool AnyEnabled(RateLimitSet limits) => limits.PerAddress.Enabled || limits.PerToken.Enabled;

    /// <summary>Registers the limiter and its 429 reply when any limit is on; the application then calls <c>UseRateLimiter</c>.</summary>
    public static void AddSenderLimits(IServiceCollection services, RateLimitSet limits)
    {
        if (!AnyEnabled(limits)) return;
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IngestAuthenticator, EdgeMetrics, HttpListenerSet>((o, auth, metrics, listeners) =>
        {
            o.GlobalLimiter = new SenderRateLimiter(limits, auth);
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, _) => RejectAsync(context, metrics, listeners);
        });
    }

    /// <summary>429 with Retry-After (whole seconds, at least 1) and a JSON error naming the limit; counted by reason.</summary>
    private static ValueTask RejectAsync(OnRejectedContext context, EdgeMetrics metrics, HttpListenerSet listeners)
    {
        var reason = context.Lease.TryGetMetadata(MetadataName.ReasonPhrase, out var phrase) && phrase is not null ? phrase : Address;
        var after = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (long)Math.Ceiling(after.TotalSeconds));
        context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        metrics.HttpRateLimited.For(("listener", listeners.For(context.HttpContext).Http.Name), ("reason", reason)).Inc();
        var response = new IngestResponse { Error = $"too many requests from this {reason}; retry after {seconds} s" };
        return new ValueTask(Results.Json(response, HttpJson.Default.IngestResponse, statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context.HttpContext));
    }

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        if (resource.GetEndpoint()?.Metadata.GetMetadata<IngestEndpoint>() is null) return Granted.Lease;
        // Token buckets give nothing back on dispose: a lease is only a yes or a no.
        using (var address = _perAddress?.AttemptAcquire(resource, permitCount))
            if (address is { IsAcquired: false }) return new Refused(Address, RetryAfterOf(address));
        using (var token = _perToken?.AttemptAcquire(resource, permitCount))
            if (token is { IsAcquired: false }) return new Refused(Token, RetryAfterOf(token));
        return Granted.Lease;
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _perAddress?.Dispose();
            _perToken?.Dispose();
        }
        base.Dispose(disposing);
    }

    private static TokenBucketRateLimiterOptions Bucket(RateLimitOptions limit) => new()
    {
        TokenLimit = limit.Burst > 0 ? limit.Burst : limit.Requests,
        TokensPerPeriod = limit.Requests,
        ReplenishmentPeriod = limit.Period,
        QueueLimit = 0,
        // The partitioned limiter's own timer refills every bucket: no timer per sender.
        AutoReplenishment = false,
    };

    private static TimeSpan? RetryAfterOf(RateLimitLease lease) => lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : null;

    private sealed class Granted : RateLimitLease
    {
        public static readonly Granted Lease = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }

    /// <summary>A refusal: which limit (as the reason phrase) and when to come back.</summary>
    private sealed class Refused(string reason, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.ReasonPhrase.Name ? reason : metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
