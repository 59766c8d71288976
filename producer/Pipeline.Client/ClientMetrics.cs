using System.Diagnostics.Metrics;

namespace Pipeline.Client;

/// <summary>
/// What the client counts, in one place: instruments on the <c>Pipeline.Client</c> meter (collect them with
/// OpenTelemetry or dotnet-counters) and the same figures for code (<see cref="PipelineClient.Stats"/>).
/// </summary>
internal sealed class ClientMetrics : IDisposable
{
    public const string MeterName = "Pipeline.Client";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _queued;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _connectionFailures;
    private readonly Action<DroppedEvents>? _onDropped;
    private readonly long[] _droppedByReason = new long[Enum.GetValues<DropReason>().Length];
    private long _queuedTotal;
    private long _storedTotal;
    private long _notStoredTotal;
    private long _resentTotal;
    private long _sampledOutTotal;

    public ClientMetrics(Func<long> queueLength, Action<DroppedEvents>? onDropped)
    {
        _onDropped = onDropped;
        _queued = _meter.CreateCounter<long>("pipeline.client.events.queued", "{event}", "Events taken from the application.");
        _stored = _meter.CreateCounter<long>("pipeline.client.events.stored", "{event}", "Events the edge said it stored.");
        _dropped = _meter.CreateCounter<long>("pipeline.client.events.dropped", "{event}", "Events dropped instead of sent, by reason.");
        _connectionFailures = _meter.CreateCounter<long>("pipeline.client.connection.failures", "{failure}", "Attempts to reach the edge that failed.");
        _meter.CreateObservableGauge("pipeline.client.queue.length", queueLength, "{event}", "Events queued or sent and not yet answered.");
    }

    public PipelineClientStats Snapshot() => new(Interlocked.Read(ref _queuedTotal), Interlocked.Read(ref _storedTotal), Interlocked.Read(ref _notStoredTotal),
        Interlocked.Read(ref _resentTotal), Interlocked.Read(ref _sampledOutTotal), Enum.GetValues<DropReason>().ToDictionary(r => r, r => Interlocked.Read(ref _droppedByReason[(int)r])));

    public void Queued()
    {
        Interlocked.Increment(ref _queuedTotal);
        _queued.Add(1);
    }

    /// <summary>The edge answered for an event: stored, or handled without storing (its route sampled it out or shed it).</summary>
    public void Answered(bool stored)
    {
        if (!stored)
        {
            Interlocked.Increment(ref _notStoredTotal);
            return;
        }
        Interlocked.Increment(ref _storedTotal);
        _stored.Add(1);
    }

    /// <summary>An event its sample rate left out (not a loss: the kept ones say how many each stands for).</summary>
    public void SampledOut() => Interlocked.Increment(ref _sampledOutTotal);

    public void Resent(int count) => Interlocked.Add(ref _resentTotal, count);

    public void ConnectionFailed() => _connectionFailures.Add(1);

    public void Dropped(DropReason reason, int count = 1)
    {
        if (count == 0) return;
        Interlocked.Add(ref _droppedByReason[(int)reason], count);
        _dropped.Add(count, new KeyValuePair<string, object?>("reason", Name(reason)));
        try
        {
            _onDropped?.Invoke(new DroppedEvents(reason, count));
        }
        catch
        {
            // The application's callback must not break its own logging.
        }
    }

    public void Dispose() => _meter.Dispose();

    private static string Name(DropReason reason) => reason switch
    {
        DropReason.QueueFull => "queue_full",
        DropReason.TooLarge => "too_large",
        DropReason.Rejected => "rejected",
        DropReason.Shutdown => "shutdown",
        _ => "unwritable",
    };
}

/// <summary>Counts since the client started.</summary>
/// <param name="Queued">Events taken from the application.</param>
/// <param name="Stored">Events the edge stored.</param>
/// <param name="NotStored">Events the edge answered for without storing them (its route sampled them out or shed them).</param>
/// <param name="Resent">Sends repeated after a lost connection (events the edge had not answered for).</param>
/// <param name="SampledOut">Events their sample rate left out (by design, not a loss).</param>
/// <param name="Dropped">Events dropped, by reason.</param>
public sealed record PipelineClientStats(long Queued, long Stored, long NotStored, long Resent, long SampledOut, IReadOnlyDictionary<DropReason, long> Dropped)
{
    /// <summary>Every event dropped, whatever the reason.</summary>
    public long DroppedTotal => Dropped.Values.Sum();
}
