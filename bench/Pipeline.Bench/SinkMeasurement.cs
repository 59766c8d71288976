using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Bench;

/// <summary>
/// A sink as the runtime sees it, measured: records written, and the calling thread's CPU time inside each write
/// (for a sink that does its work before its task returns, that is the sink's whole cost; for an asynchronous
/// one, only the part before its first await).
/// </summary>
internal sealed class MeasuredSink(IBatchSink inner) : IBatchSink
{
    private long _records;
    private long _batches;
    private long _cpuNanoseconds;

    public IBatchSink Inner => inner;

    public long Records => Interlocked.Read(ref _records);

    public long Batches => Interlocked.Read(ref _batches);

    public double CpuNanoseconds => Interlocked.Read(ref _cpuNanoseconds);

    public OffsetStorage OffsetStorage => inner.OffsetStorage;

    public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) =>
        inner.OnAssignedAsync(partitions, cancellationToken);

    public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) => inner.OnRevokedAsync(partitions, cancellationToken);

    public async Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        var cpu = ThreadCpu.Nanoseconds();
        var write = inner.WriteAsync(batch, cancellationToken);
        Interlocked.Add(ref _cpuNanoseconds, ThreadCpu.Nanoseconds() - cpu);
        await write;
        Interlocked.Add(ref _records, batch.Records.Count);
        Interlocked.Increment(ref _batches);
    }
}

/// <summary>The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).</summary>
internal static partial class ThreadCpu
{
    private const int ClockThreadCpuTime = 3;

    public static long Nanoseconds()
    {
        ClockGetTime(ClockThreadCpuTime, out var t);
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

/// <summary>
/// Meters nobody listens to, for the consumer runtime under measurement: its per-record histograms then cost what
/// an instrument without a listener costs, not what a test's reading listener would add.
/// </summary>
internal sealed class UnreadMeters : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (_meters) _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        lock (_meters) foreach (var meter in _meters) meter.Dispose();
    }
}
