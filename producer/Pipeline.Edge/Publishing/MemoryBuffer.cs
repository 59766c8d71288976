namespace Pipeline.Edge.Publishing;

/// <summary>Limits of the in-memory buffer (section <c>Edge:Memory</c>).</summary>
public sealed class MemoryBufferOptions
{
    /// <summary>
    /// Events handed to the producer and not yet acknowledged, at most; beyond it events go to the spool (or a
    /// TCP sender waits). 20,000 keep 500,000 events/s flowing while Kafka takes up to 40 ms to acknowledge, and
    /// the edge, the producer's copies included, under 200 MiB resident (BENCHMARKS.md); raise it for a Kafka
    /// further away. Default 20,000.
    /// </summary>
    public int MaxEvents { get; set; } = 20_000;

    /// <summary>Bytes of such events, at most (the producer holds a copy of each as well). Default 32 MiB.</summary>
    public long MaxBytes { get; set; } = 32L << 20;

    /// <summary>
    /// While the buffer is full, a sender that can wait (TCP, WebSocket, an HTTP request) is held back as long as Kafka acknowledged
    /// something within this time (it is only slower than the input); past it, its events overflow to the spool
    /// like everyone else's. Default 2 s.
    /// </summary>
    public TimeSpan SpoolAfterNoAckFor { get; set; } = TimeSpan.FromSeconds(2);

    public void Validate()
    {
        if (MaxEvents < 1 || MaxBytes < 1) throw new ArgumentException("Edge:Memory limits must be positive");
        if (SpoolAfterNoAckFor <= TimeSpan.Zero || SpoolAfterNoAckFor > TimeSpan.FromHours(1))
            throw new ArgumentException("Edge:Memory:SpoolAfterNoAckFor must be more than 0 and at most 1 hour");
    }
}

/// <summary>
/// What the memory buffer holds: events handed to the producer directly and not yet acknowledged, their bytes,
/// and when Kafka last made progress on them. Counted with interlocked operations from every listener thread
/// and the delivery-report thread; read by <see cref="AdmissionPolicy"/>.
/// </summary>
internal sealed class MemoryBuffer(MemoryBufferOptions options, TimeProvider time)
{
    private readonly long _silenceTicks = (long)(options.SpoolAfterNoAckFor.TotalSeconds * time.TimestampFrequency);
    private long _events;
    private long _bytes;
    // When Kafka last acknowledged something, or the buffer last went from empty to in use (a timestamp of the clock).
    private long _lastProgressAt = long.MinValue / 2;

    public long Events => Interlocked.Read(ref _events);

    /// <summary>The most events it holds (<see cref="MemoryBufferOptions.MaxEvents"/>).</summary>
    public int MaxEvents => options.MaxEvents;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Full: no more events, or not <paramref name="extraBytes"/> more bytes.</summary>
    public bool IsFull(long extraBytes) => Events >= options.MaxEvents || Bytes + extraBytes >= options.MaxBytes;

    /// <summary>Whether Kafka acknowledged something (or the buffer started being used) within <see cref="MemoryBufferOptions.SpoolAfterNoAckFor"/>.</summary>
    public bool KafkaAcknowledging => time.GetTimestamp() - Volatile.Read(ref _lastProgressAt) < _silenceTicks;

    /// <summary>One event handed to the producer (counted before the hand-over: its report may come first).</summary>
    public void Enter(long bytes)
    {
        // Waiting starts when the buffer comes into use: an idle edge is not "Kafka silent for hours".
        if (Interlocked.Increment(ref _events) == 1) Progress();
        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>Events settled (acknowledged, spooled or dropped), or taken back because the producer did not queue them.</summary>
    public void Leave(int events, long bytes)
    {
        Interlocked.Add(ref _events, -events);
        Interlocked.Add(ref _bytes, -bytes);
    }

    /// <summary>Kafka acknowledged something.</summary>
    public void Progress() => Volatile.Write(ref _lastProgressAt, time.GetTimestamp());
}
