using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Pipeline.Client.Delivery;

/// <summary>
/// Delivers NDJSON batches to <c>POST /v1/events</c>: a batch is sent when it holds
/// <see cref="PipelineClientOptions.MaxBatchEvents"/> events or <see cref="PipelineClientOptions.FlushInterval"/> after
/// its first one. The answer settles it: 200 (lines the edge named in <c>errors</c> are dropped as rejected), 503 (the
/// lines before <c>resume_from_line</c> are settled, the rest go again after Retry-After), 413 (the batch is halved;
/// a single event too large is dropped), 400 (every line rejected); anything else, or no answer, sends the whole
/// batch again after a backoff — with the same ids, so the edge's sinks keep one copy.
/// </summary>
internal sealed class HttpTransport : ITransport
{
    private static readonly MediaTypeHeaderValue Ndjson = new("application/x-ndjson");

    private readonly PipelineClientOptions _options;
    private readonly Outbox _outbox;
    private readonly ClientMetrics _metrics;
    private readonly HttpClient _http;
    private readonly Uri _events;
    // The batch in hand: taken from the outbox, not yet settled by an answer.
    private readonly List<EncodedEvent> _batch = [];
    private int _sendAtMost;

    public HttpTransport(PipelineClientOptions options, Outbox outbox, ClientMetrics metrics)
    {
        _options = options;
        _outbox = outbox;
        _metrics = metrics;
        _sendAtMost = options.MaxBatchEvents;
        _events = new UriBuilder(options.Endpoint) { Path = options.Endpoint.AbsolutePath.TrimEnd('/') + "/v1/events" }.Uri;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (options.Token is { } token) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public async Task RunAsync(Backoff backoff, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_batch.Count == 0) await CollectAsync(cancellationToken);
            var sending = Math.Min(_batch.Count, _sendAtMost);
            using var response = await PostAsync(sending, cancellationToken);
            var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK or HttpStatusCode.Accepted:
                    Settle(sending, answer);
                    _sendAtMost = _options.MaxBatchEvents;
                    backoff.Reset();
                    break;
                case HttpStatusCode.ServiceUnavailable:
                    Settle(ResumeFrom(answer) - 1, answer);
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), _options.TimeProvider, cancellationToken);
                    break;
                case HttpStatusCode.RequestEntityTooLarge when sending > 1:
                    _sendAtMost = sending / 2;
                    break;
                case HttpStatusCode.RequestEntityTooLarge:
                    Drop(1, DropReason.TooLarge);
                    break;
                case HttpStatusCode.BadRequest:
                    Drop(sending, DropReason.Rejected);
                    break;
                default:
                    // 401, 429, 5xx…: the edge cannot take it now; the batch stays in hand and goes again after a backoff.
                    throw new HttpRequestException($"the edge answered {(int)response.StatusCode}", null, response.StatusCode);
            }
        }
    }

    public IReadOnlyList<EncodedEvent> TakeUnanswered()
    {
        var items = _batch.ToList();
        _batch.Clear();
        return items;
    }

    public void Dispose() => _http.Dispose();

    private async Task CollectAsync(CancellationToken cancellationToken)
    {
        EncodedEvent first;
        while (!_outbox.TryTake(out first)) await _outbox.WaitToTakeAsync(cancellationToken);
        _batch.Add(first);
        using var filling = new CancellationTokenSource(_options.FlushInterval, _options.TimeProvider);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, filling.Token);
        while (_batch.Count < _options.MaxBatchEvents)
        {
            if (_outbox.TryTake(out var item))
            {
                _batch.Add(item);
                continue;
            }
            try
            {
                await _outbox.WaitToTakeAsync(either.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task<HttpResponseMessage> PostAsync(int count, CancellationToken cancellationToken)
    {
        var length = 0;
        for (var i = 0; i < count; i++) length += _batch[i].Length + 1;
        var body = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var at = 0;
            for (var i = 0; i < count; i++)
            {
                _batch[i].Json.Span.CopyTo(body.AsSpan(at));
                at += _batch[i].Length;
                body[at++] = (byte)'\n';
            }
            using var content = new ByteArrayContent(body, 0, length);
            content.Headers.ContentType = Ndjson;
            return await _http.PostAsync(_events, content, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>The first <paramref name="count"/> events of the batch were answered for: those the edge named in <c>errors</c> are rejected.</summary>
    private void Settle(int count, byte[] answer)
    {
        var rejected = RejectedLines(answer);
        var stored = Count(answer, "accepted");
        for (var i = 0; i < count; i++)
        {
            if (rejected.Contains(i + 1)) _metrics.Dropped(DropReason.Rejected);
            else _metrics.Answered(stored-- > 0);
            _outbox.Done(_batch[i]);
        }
        _batch.RemoveRange(0, count);
    }

    private void Drop(int count, DropReason reason)
    {
        for (var i = 0; i < count; i++) _outbox.Done(_batch[i]);
        _batch.RemoveRange(0, count);
        _metrics.Dropped(reason, count);
    }

    private static HashSet<int> RejectedLines(byte[] answer)
    {
        var lines = new HashSet<int>();
        if (!TryParse(answer, out var root) || !root.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Array) return lines;
        foreach (var error in errors.EnumerateArray())
            if (error.TryGetProperty("line", out var line) && line.TryGetInt32(out var number)) lines.Add(number);
        return lines;
    }

    private static int Count(byte[] answer, string name) =>
        TryParse(answer, out var root) && root.TryGetProperty(name, out var value) && value.TryGetInt32(out var count) ? count : 0;

    /// <summary>The first line the edge did not take (1-based); 1 when the answer does not say.</summary>
    private static int ResumeFrom(byte[] answer) => Math.Max(1, Count(answer, "resume_from_line"));

    private static bool TryParse(byte[] answer, out JsonElement root)
    {
        root = default;
        try
        {
            using var document = JsonDocument.Parse(answer);
            root = document.RootElement.Clone();
            return root.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
