using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A local endpoint speaking the Splunk HTTP Event Collector protocol with indexer acknowledgement:
/// <c>POST /services/collector/event</c> (token in <c>Authorization: Splunk …</c>, channel in
/// <c>X-Splunk-Request-Channel</c>) answers an <c>ackId</c>; <c>POST /services/collector/ack</c> says which ids
/// are indexed. <see cref="Withhold"/> decides, per request, whether its ack id is never confirmed — as an
/// indexer that lost the data would — so the client must send those events again.
/// </summary>
internal sealed class FakeHecServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _token;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly object _gate = new();
    private readonly Dictionary<(string Channel, long AckId), (List<string> Ids, bool Withheld)> _pending = [];
    private readonly ConcurrentDictionary<string, int> _received = new(StringComparer.Ordinal);
    private readonly HashSet<string> _acked = new(StringComparer.Ordinal);
    private long _nextAckId;
    private int _acknowledgedCount;

    public FakeHecServer(string token, Func<IReadOnlyList<string>, IReadOnlyList<string>, bool> withhold)
    {
        _token = token;
        Withhold = withhold;
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>(event ids, messages of the request) → never acknowledge this request.</summary>
    public Func<IReadOnlyList<string>, IReadOnlyList<string>, bool> Withhold { get; }

    /// <summary>How often each event id arrived.</summary>
    public IReadOnlyDictionary<string, int> Received => _received;

    public int Unauthorised { get; private set; }
    public int WithheldRequests { get; private set; }

    /// <summary>Distinct event ids whose ack was reported true (read it after the client's counters: it only grows).</summary>
    public int AcknowledgedCount => Volatile.Read(ref _acknowledgedCount);

    public HashSet<string> Acknowledged
    {
        get
        {
            lock (_gate) return [.. _acked];
        }
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            string body;
            using (var reader = new StreamReader(request.InputStream, Encoding.UTF8)) body = reader.ReadToEnd();
            if (request.Headers["Authorization"] != "Splunk " + _token)
            {
                Unauthorised++;
                Reply(response, 401, """{"text":"Invalid token","code":4}""");
                return;
            }
            var channel = request.Headers["X-Splunk-Request-Channel"];
            if (string.IsNullOrEmpty(channel))
            {
                Reply(response, 400, """{"text":"Data channel is missing","code":10}""");
                return;
            }
            var path = request.Url!.AbsolutePath;
            if (request.HttpMethod == "POST" && path == "/services/collector/event") Event(response, channel, body);
            else if (request.HttpMethod == "POST" && path == "/services/collector/ack") Ack(response, channel, body);
            else Reply(response, 404, """{"text":"not found"}""");
        }
        catch (Exception ex)
        {
            Reply(response, 500, JsonSerializer.Serialize(new { text = ex.Message }));
        }
    }

    private void Event(HttpListenerResponse response, string channel, string body)
    {
        var ids = new List<string>();
        var messages = new List<string>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(body), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var one = JsonDocument.ParseValue(ref reader);
            var e = one.RootElement.GetProperty("event");
            ids.Add(e.GetProperty("event").GetProperty("id").GetString()!);
            messages.Add(e.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "");
        }
        foreach (var id in ids) _received.AddOrUpdate(id, 1, (_, n) => n + 1);
        var withheld = Withhold(ids, messages);
        long ackId;
        lock (_gate)
        {
            ackId = _nextAckId++;
            _pending[(channel, ackId)] = (ids, withheld);
            if (withheld) WithheldRequests++;
        }
        // 200 with an ack id: received, not yet durable.
        Reply(response, 200, $$"""{"text":"Success","code":0,"ackId":{{ackId}}}""");
    }

    private void Ack(HttpListenerResponse response, string channel, string body)
    {
        using var request = JsonDocument.Parse(body);
        var answer = new Dictionary<string, bool>();
        lock (_gate)
        {
            foreach (var id in request.RootElement.GetProperty("acks").EnumerateArray().Select(a => a.GetInt64()))
            {
                var known = _pending.TryGetValue((channel, id), out var entry);
                var done = known && !entry.Withheld;
                if (done)
                    foreach (var eventId in entry.Ids)
                        if (_acked.Add(eventId)) Interlocked.Increment(ref _acknowledgedCount);
                answer[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = done;
            }
        }
        Reply(response, 200, JsonSerializer.Serialize(new { acks = answer }));
    }

    private static void Reply(HttpListenerResponse response, int status, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
        response.OutputStream.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
        }
        _stop.Dispose();
    }
}
