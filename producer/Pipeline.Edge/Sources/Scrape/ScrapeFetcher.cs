using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>A scraped body in a pooled buffer, cut off at the target's limit. One per scrape; returned when disposed.</summary>
internal sealed class ScrapeBody : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);

    public int Length { get; private set; }
    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>Room for the next read: at least 16 KiB, growing the buffer by doubling.</summary>
    public Memory<byte> Free()
    {
        if (_buffer.Length - Length < 16 * 1024)
        {
            var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        return _buffer.AsMemory(Length);
    }

    public void Advance(int count) => Length += count;

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        Length = 0;
    }
}

/// <summary>What one fetch gave: a body in a known format, or why not.</summary>
internal readonly record struct FetchResult(ScrapeFailure? Failure, string Detail, ExpositionFormat Format)
{
    public bool Succeeded => Failure is null;
}

/// <summary>
/// GETs a target's exposition within its timeout and byte limit. Every target has its own connection (one
/// shared handler pools them per endpoint), so a target that hangs, trickles or floods costs only its own
/// scrape: the timeout ends the wait, the limit ends the read.
/// </summary>
internal sealed class ScrapeFetcher(HttpClient http, TimeProvider time)
{
    // As Prometheus asks: OpenMetrics first, the 0.0.4 text format as the fallback every exporter speaks.
    private static readonly MediaTypeWithQualityHeaderValue[] Accept =
    [
        MediaTypeWithQualityHeaderValue.Parse("application/openmetrics-text;version=1.0.0;q=0.5"),
        MediaTypeWithQualityHeaderValue.Parse("application/openmetrics-text;version=0.0.1;q=0.4"),
        MediaTypeWithQualityHeaderValue.Parse("text/plain;version=0.0.4;q=0.3"),
        MediaTypeWithQualityHeaderValue.Parse("*/*;q=0.2"),
    ];

    /// <summary>A client for scraping: gzip, no cookies, redirects followed, no client-wide timeout (each scrape has its own).</summary>
    public static HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        UseCookies = false,
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 5,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { { "User-Agent", "pipeline-edge" } },
    };

    public async Task<FetchResult> FetchAsync(ScrapeTarget target, ScrapeBody body, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(target.Timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target.Url);
            foreach (var accept in Accept) request.Headers.Accept.Add(accept);
            // Exporters that do expensive work (blackbox, SNMP) size it by the time they are given.
            request.Headers.Add("X-Prometheus-Scrape-Timeout-Seconds", target.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture));
            if (target.BearerTokenFile is { } tokenFile)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(tokenFile, either.Token)).Trim());
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, either.Token);
            if (!response.IsSuccessStatusCode)
                return new FetchResult(ScrapeFailure.HttpStatus, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", default);
            if (response.Content.Headers.ContentLength > target.MaxBodyBytes)
                return new FetchResult(ScrapeFailure.TooLarge, $"Content-Length {response.Content.Headers.ContentLength} is over the limit of {target.MaxBodyBytes} bytes", default);
            await using var stream = await response.Content.ReadAsStreamAsync(either.Token);
            while (true)
            {
                var read = await stream.ReadAsync(body.Free(), either.Token);
                if (read == 0) break;
                body.Advance(read);
                if (body.Length > target.MaxBodyBytes)
                    return new FetchResult(ScrapeFailure.TooLarge, $"body cut off after {target.MaxBodyBytes} bytes (the limit)", default);
            }
            return new FetchResult(null, "", FormatOf(response.Content.Headers.ContentType));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new FetchResult(ScrapeFailure.Timeout, $"no complete answer within {target.Timeout.TotalSeconds:0.###} s ({body.Length} bytes read)", default);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException)
        {
            return new FetchResult(ScrapeFailure.Connection, Innermost(ex), default);
        }
    }

    /// <summary>OpenMetrics when the target says so; anything else is read as the Prometheus text format.</summary>
    public static ExpositionFormat FormatOf(MediaTypeHeaderValue? contentType) =>
        string.Equals(contentType?.MediaType, "application/openmetrics-text", StringComparison.OrdinalIgnoreCase)
            ? ExpositionFormat.OpenMetrics
            : ExpositionFormat.PrometheusText;

    private static string Innermost(Exception ex)
    {
        var message = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException) message = inner.Message;
        return message;
    }
}
