using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>A paced NDJSON sender over HTTP that honours 503 + Retry-After and resends from the line the edge names.</summary>
internal static class HttpSender
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Posts events 0..count-1 ({"seq":n,...}) in batches at about <paramref name="perSecond"/>; returns the seqs the edge accepted.</summary>
    public static async Task<HashSet<int>> SendAsync(string baseUrl, int count, int perSecond, int batch = 50, CancellationToken cancellationToken = default)
    {
        var accepted = new HashSet<int>();
        var clock = Stopwatch.StartNew();
        var next = 0;
        while (next < count && !cancellationToken.IsCancellationRequested)
        {
            var due = (int)(clock.Elapsed.TotalSeconds * perSecond);
            if (next >= due)
            {
                await Task.Delay(5, cancellationToken);
                continue;
            }
            var seqs = Enumerable.Range(next, Math.Min(batch, count - next)).ToList();
            var body = string.Join('\n', seqs.Select(n => $"{{\"seq\":{n},\"source\":\"http-sender\"}}"));
            using var response = await Client.PostAsync(baseUrl + "/v1/events", new StringContent(body, Encoding.UTF8, "application/x-ndjson"), cancellationToken);
            var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
            var taken = reply.GetProperty("accepted").GetInt32();
            accepted.UnionWith(seqs.Take(taken));
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                // Resend from the first line not taken, after the time the edge asked for.
                next += taken;
                await Task.Delay(TimeSpan.FromSeconds(response.Headers.RetryAfter?.Delta?.TotalSeconds ?? 1), cancellationToken);
                continue;
            }
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /v1/events: {(int)response.StatusCode} {reply}");
            next += seqs.Count;
        }
        return accepted;
    }
}
