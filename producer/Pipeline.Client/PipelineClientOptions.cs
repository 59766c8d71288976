namespace Pipeline.Client;

/// <summary>How events reach the edge.</summary>
public enum PipelineTransport
{
    /// <summary>The edge's WebSocket stream (<c>/v1/stream</c>): one message per event, each answered with the running count stored.</summary>
    WebSocket,

    /// <summary>HTTP POSTs of NDJSON batches to <c>/v1/events</c>, each answered with the count accepted.</summary>
    Http,
}

/// <summary>Settings of a <see cref="PipelineClient"/>; every one has a default, so <c>new PipelineClientOptions()</c> works against a local edge.</summary>
public sealed class PipelineClientOptions
{
    /// <summary>The edge's HTTP address. Default <c>http://127.0.0.1:8080</c> (<c>https</c> for TLS; the WebSocket address is derived from it).</summary>
    public Uri Endpoint { get; set; } = new("http://127.0.0.1:8080");

    /// <summary>Default <see cref="PipelineTransport.WebSocket"/>.</summary>
    public PipelineTransport Transport { get; set; } = PipelineTransport.WebSocket;

    /// <summary>The ingest token (sent as <c>Authorization: Bearer</c>); it names the tenant. Default none (an edge that allows anonymous senders).</summary>
    public string? Token { get; set; }

    /// <summary>The application's name in every event (<c>app</c>, which routes can match). Default: the entry assembly's name.</summary>
    public string? App { get; set; }

    /// <summary>The host in every event (<c>host</c>, the Kafka key that keeps one host's events in order). Default: the machine name.</summary>
    public string? Host { get; set; }

    /// <summary>The dataset of events created without one. Default <c>events</c>.</summary>
    public string Dataset { get; set; } = "events";

    /// <summary>Keep 1 in N events (each kept one says <c>sample_rate: N</c>). Default 1: keep all. Per dataset: <see cref="DatasetSampleRates"/>.</summary>
    public int SampleRate { get; set; } = 1;

    /// <summary>Sample rates by dataset, overriding <see cref="SampleRate"/> (e.g. <c>["example.profile.pages"] = 4</c>, 25 %).</summary>
    public Dictionary<string, int> DatasetSampleRates { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Events waiting to be sent, at most; more are dropped and counted. Besides these, at most <see cref="MaxBatchEvents"/>
    /// are in hand (being sent, or sent and not yet answered for). Default 10,000.
    /// </summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Events per HTTP request, or sent over the WebSocket before waiting for replies, at most. Default 500.</summary>
    public int MaxBatchEvents { get; set; } = 500;

    /// <summary>HTTP: how long a batch waits to fill before it is sent anyway. Default 200 ms.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Largest event (its JSON); larger ones are dropped and counted (the edge would refuse them). Default 1 MiB, the edge's default.</summary>
    public int MaxEventBytes { get; set; } = 1 << 20;

    /// <summary>Waits between attempts while the edge is unreachable: capped exponential backoff with jitter. Defaults 100 ms and 5 s.</summary>
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <inheritdoc cref="RetryMinDelay"/>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long <c>Dispose</c> waits for what is queued to be stored; what is left is dropped and counted. Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Called when events are dropped (on the thread that dropped them; keep it short: exceptions are swallowed). Default none.</summary>
    public Action<DroppedEvents>? OnDropped { get; set; }

    /// <summary>The clock for timestamps, durations, batching and backoff. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (!Endpoint.IsAbsoluteUri || Endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Endpoint must be an absolute http:// or https:// address, not '{Endpoint}'");
        if (SampleRate < 1 || DatasetSampleRates.Values.Any(r => r < 1)) throw new ArgumentException("sample rates must be at least 1");
        if (QueueCapacity < 1) throw new ArgumentException("QueueCapacity must be at least 1");
        if (MaxBatchEvents < 1) throw new ArgumentException("MaxBatchEvents must be at least 1");
        if (MaxEventBytes < 64) throw new ArgumentException("MaxEventBytes must be at least 64");
        if (FlushInterval <= TimeSpan.Zero || RetryMinDelay <= TimeSpan.Zero || RetryMaxDelay < RetryMinDelay || ShutdownTimeout < TimeSpan.Zero)
            throw new ArgumentException("FlushInterval and RetryMinDelay must be positive, RetryMaxDelay at least RetryMinDelay, ShutdownTimeout not negative");
    }
}
