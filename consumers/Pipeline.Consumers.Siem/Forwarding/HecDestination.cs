using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.Consumers.Siem.Forwarding;

/// <summary>
/// Splunk HTTP Event Collector with indexer acknowledgement. Each batch is one
/// <c>POST /services/collector/event</c> (events as concatenated JSON objects, <c>Authorization: Splunk
/// &lt;token&gt;</c>, <c>X-Splunk-Request-Channel: &lt;guid&gt;</c>); the 200 answer carries an <c>ackId</c>, which
/// only says the event was received. The batch counts as delivered when <c>POST /services/collector/ack</c>
/// reports that id true (the data reached the indexers); one not acknowledged within <c>AckTimeout</c> is
/// sent again under a new ack id. Up to <c>MaxInFlight</c> batches await acknowledgement at once.
/// </summary>
internal sealed class HecDestination : IForwardDestination
{
    private readonly ForwarderOptions _options;
    private readonly string _name;
    private readonly HttpClient _http;
    private readonly Uri _eventUri;
    private readonly Uri _ackUri;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Pipeline.Core.Metrics.CounterCell _resent;
    private readonly ArrayBufferWriter<byte> _body = new(256 * 1024);

    public HecDestination(ForwarderOptions options, string name, TimeProvider time, SiemMetrics metrics, ILogger log)
    {
        _options = options;
        _name = name;
        _time = time;
        _log = log;
        _resent = metrics.Resent(name);
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = options.Timeout };
        if (TlsTrust.Callback(options.Tls) is { } callback) handler.SslOptions.RemoteCertificateValidationCallback = callback;
        _http = new HttpClient(handler) { Timeout = options.Timeout };
        var channel = options.Channel ?? Guid.NewGuid().ToString();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Splunk", options.ResolveToken());
        _http.DefaultRequestHeaders.Add("X-Splunk-Request-Channel", channel);
        var root = new Uri(options.Endpoint.TrimEnd('/') + "/");
        _eventUri = new Uri(root, "services/collector/event?channel=" + channel);
        _ackUri = new Uri(root, "services/collector/ack?channel=" + channel);
    }

    public int MaxInFlight => _options.MaxInFlight;

    public TimeSpan ConfirmInterval => _options.AckPollInterval;

    public async Task SendAsync(OutgoingBatch batch, CancellationToken cancellationToken)
    {
        _body.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(_body, new JsonWriterOptions { SkipValidation = true }))
        {
            foreach (var record in batch.Records)
            {
                // Concatenated objects, as HEC takes them; "event" is the archived document byte for byte.
                json.Reset(_body);
                json.WriteStartObject();
                if (CefFormatter.Text(record.Json, EcsFields.Timestamp) is { } t
                    && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                    json.WriteNumber("time", Math.Round(time.ToUnixTimeMilliseconds() / 1000.0, 3));
                if (CefFormatter.Text(record.Json, EcsFields.HostName) is { } host) json.WriteString("host", host);
                json.WriteString("source", CefFormatter.Product);
                json.WriteString("sourcetype", _options.SourceType);
                if (_options.Index is { } index) json.WriteString("index", index);
                json.WriteStartObject("fields");
                json.WriteString("archive_seq", record.Seq.ToString(CultureInfo.InvariantCulture));
                json.WriteString("archive_hash", record.Hash);
                json.WriteEndObject();
                json.WritePropertyName("event");
                json.WriteRawValue(record.Doc, skipInputValidation: true);
                json.WriteEndObject();
                json.Flush();
                _body.Write("\n"u8);
            }
        }
        using var content = new ByteArrayContent(_body.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(_eventUri, content, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"HEC answered {(int)response.StatusCode}: {Trim(text)}");
        using var answer = JsonDocument.Parse(text);
        // Without an ack id there is no way to know the data was indexed: refuse to count it.
        if (!answer.RootElement.TryGetProperty("ackId", out var ackId) || !ackId.TryGetInt64(out var id))
            throw new InvalidOperationException($"HEC answered without an ackId (is indexer acknowledgement enabled for the token?): {Trim(text)}");
        batch.AckId = id;
        batch.SentAt = _time.GetUtcNow();
        batch.Attempts++;
    }

    public async Task ConfirmAsync(IReadOnlyCollection<OutgoingBatch> inFlight, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var batch in inFlight.Where(b => !b.Confirmed && now - b.SentAt >= _options.AckTimeout).ToList())
        {
            SiemLog.AckTimedOut(_log, _name, batch.Records.Count, batch.AckId, _options.AckTimeout);
            _resent.Inc(batch.Records.Count);
            await SendAsync(batch, cancellationToken);
        }
        var waiting = inFlight.Where(b => !b.Confirmed && b.AckId >= 0).ToList();
        if (waiting.Count == 0) return;
        var body = JsonSerializer.Serialize(new AckRequest(waiting.Select(b => b.AckId).Distinct().ToArray()), HecJson.Default.AckRequest);
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(_ackUri, content, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"HEC ack answered {(int)response.StatusCode}: {Trim(text)}");
        using var answer = JsonDocument.Parse(text);
        if (!answer.RootElement.TryGetProperty("acks", out var acks) || acks.ValueKind != JsonValueKind.Object) return;
        foreach (var batch in waiting)
            if (acks.TryGetProperty(batch.AckId.ToString(CultureInfo.InvariantCulture), out var done) && done.ValueKind == JsonValueKind.True)
                batch.Confirmed = true;
    }

    private static string Trim(string text) => text.Length > 300 ? text[..300] : text;

    public ValueTask ResetAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal sealed record AckRequest(long[] Acks);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(AckRequest))]
internal sealed partial class HecJson : System.Text.Json.Serialization.JsonSerializerContext;
