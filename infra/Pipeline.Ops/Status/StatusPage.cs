namespace Pipeline.Ops.Status;

/// <summary>The status page running: its readers and its web server, started and stopped together (by <c>status</c> and by <c>local</c>).</summary>
internal sealed class StatusPage : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly StatusSampler _sampler;
    private readonly StatusServer _server;

    private StatusPage(HttpClient http, StatusSampler sampler, StatusServer server)
    {
        _http = http;
        _sampler = sampler;
        _server = server;
    }

    public Uri Address => _server.Address;

    /// <summary>Starts the page on <paramref name="bind"/>; <paramref name="readToken"/> (from <c>PIPELINE_STATUS_TOKEN</c>) is required beyond loopback.</summary>
    public static async Task<StatusPage> StartAsync(string bind, StatusSettings settings, CancellationToken cancellationToken, string? readToken = null)
    {
        var http = new HttpClient { Timeout = settings.ProcessTimeout };
        var tail = new TailFeed(settings.Kafka);
        var sampler = new StatusSampler(settings, http, TimeProvider.System, () => tail.Open);
        try
        {
            var noisiest = new NoisiestProbe(http, settings.TopK, TimeProvider.System, settings.Interval);
            var server = await StatusServer.StartAsync(bind, sampler, noisiest, tail, settings.Kafka, settings.Topics, readToken, cancellationToken);
            sampler.Start();
            return new StatusPage(http, sampler, server);
        }
        catch
        {
            await sampler.DisposeAsync();
            http.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _sampler.DisposeAsync();
        _http.Dispose();
    }
}
