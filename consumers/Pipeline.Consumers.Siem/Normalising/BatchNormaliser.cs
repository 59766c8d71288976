using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>One record of a batch as <see cref="BatchNormaliser"/> left it for the sink's ordered pass.</summary>
internal struct NormalisedRecord
{
    /// <summary>Below the archive's offsets: archived before (a re-delivery), not again.</summary>
    public bool Skipped;
    /// <summary>Not a v1 envelope (or not representable as JSON): archived raw.</summary>
    public bool Unreadable;
    /// <summary>The rule that classified it, or null.</summary>
    public ClassificationRule? Rule;
    /// <summary>When it happened at its origin (the syslog header), if it says.</summary>
    public DateTimeOffset? EventTime;
    /// <summary>What detection needs of it, when a detection rule counts its classification.</summary>
    public Observation? Observation;
    internal byte[]? Bytes;
    internal int At;
    internal int Length;
}

/// <summary>
/// The half of a batch that each record does on its own — decode the envelope, normalise and classify it, write its
/// ECS document as JSON — done on every core the machine has (records taken in runs of 64 by whichever thread is
/// free, so a core busy elsewhere only does less). What needs the batch's order (the hash chain, detection, the
/// commit) runs on the sink's thread over these results as they come (<see cref="Start"/>, <see cref="BatchPass.Await"/>):
/// the sink chains the first runs while the other cores still normalise the later ones, and normalises a run
/// itself whenever the next one in order is not ready. The archive is byte for byte what one thread would have
/// written. The JSON lives in buffers kept from batch to batch, and each thread reuses one document: nothing of an
/// event outlives its turn but its bytes and what detection needs (events kept until the batch's end would survive
/// the collections on the way and cost the collector more than the work saved).
/// Not thread-safe itself: one batch at a time.
/// </summary>
internal sealed class BatchNormaliser(EcsNormaliser normaliser, DetectionEngine detection, int threads)
{
    private const int Run = 64;
    private readonly Worker[] _workers = Enumerable.Range(0, Math.Max(1, threads)).Select(_ => new Worker()).ToArray();
    private readonly Task[] _helpers = new Task[Math.Max(1, threads) - 1];
    // Monitor-based: the sink waits on it for a run in another thread's hands.
    private readonly object _progress = new();
    private NormalisedRecord[] _records = [];
    // Per run of the batch in hand: done, and what it threw (a run is claimed by one thread, which publishes both).
    private bool[] _done = [];
    private Exception?[] _failures = [];
    private int _claimed;
    private int _runs;
    private int _helping;
    private SinkBatch? _batch;
    private IReadOnlyDictionary<PartitionKey, long> _archived = new Dictionary<PartitionKey, long>();
    private DateTimeOffset _ingested;

    public BatchNormaliser(EcsNormaliser normaliser, DetectionEngine detection) : this(normaliser, detection, Environment.ProcessorCount)
    {
    }

    /// <summary>
    /// Starts normalising <paramref name="batch"/> on the other cores; the caller takes the records in order with
    /// <see cref="BatchPass.Await"/> (which normalises on the calling thread too) and disposes the pass before the next batch.
    /// </summary>
    public BatchPass Start(SinkBatch batch, IReadOnlyDictionary<PartitionKey, long> archived, DateTimeOffset ingested)
    {
        var count = batch.Records.Count;
        if (_records.Length < count) Array.Resize(ref _records, count);
        foreach (var worker in _workers) worker.Buffer.ResetWrittenCount();
        _batch = batch;
        _archived = archived;
        _ingested = ingested;
        _runs = (count + Run - 1) / Run;
        if (_done.Length < _runs)
        {
            _done = new bool[_runs];
            _failures = new Exception?[_runs];
        }
        else
        {
            Array.Clear(_done, 0, _runs);
            Array.Clear(_failures, 0, _runs);
        }
        _claimed = 0;
        // One run is the caller's: helpers only for the rest.
        _helping = Math.Clamp(_runs - 1, 0, _helpers.Length);
        for (var h = 0; h < _helping; h++)
            _helpers[h] = Task.Factory.StartNew(static state => ((Helper)state!).Work(), new Helper(this, h + 1), CancellationToken.None,
                TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        return new BatchPass(this);
    }

    /// <summary>Each record of <paramref name="batch"/>, normalised; the span is valid until the next call.</summary>
    public ReadOnlySpan<NormalisedRecord> Normalise(SinkBatch batch, IReadOnlyDictionary<PartitionKey, long> archived, DateTimeOffset ingested)
    {
        var count = batch.Records.Count;
        using (var pass = Start(batch, archived, ingested))
            for (var index = 0; index < count; index += Run) pass.Await(index);
        return _records.AsSpan(0, count);
    }

    /// <summary>The ECS document's JSON of <paramref name="record"/>.</summary>
    public ReadOnlySpan<byte> Json(in NormalisedRecord record) => record.Bytes is { } bytes ? bytes.AsSpan(record.At, record.Length) : default;

    /// <summary>The record at <paramref name="index"/> once its run is done, normalising other runs meanwhile; throws what its run threw.</summary>
    private ref readonly NormalisedRecord Await(int index)
    {
        var run = index / Run;
        if (!Volatile.Read(ref _done[run])) WaitFor(run);
        if (_failures[run] is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return ref _records[index];
    }

    private void WaitFor(int run)
    {
        while (!Volatile.Read(ref _done[run]))
        {
            if (TryRun(0)) continue;
            // Every run is claimed: the one awaited is in another thread's hands.
            lock (_progress)
                while (!_done[run]) Monitor.Wait(_progress);
        }
    }

    /// <summary>Claims the next run and normalises it with worker <paramref name="w"/>; false when none is left.</summary>
    private bool TryRun(int w)
    {
        var run = Interlocked.Increment(ref _claimed) - 1;
        if (run >= _runs) return false;
        var worker = _workers[w];
        var batch = _batch!;
        var end = Math.Min(batch.Records.Count, (run + 1) * Run);
        Exception? failure = null;
        try
        {
            for (var i = run * Run; i < end; i++) _records[i] = One(batch.Records[i], worker);
        }
        catch (Exception ex)
        {
            // The sink's callers tell failures by their type (a record at fault, or the sink unable to write): kept as thrown.
            failure = ex;
        }
        lock (_progress)
        {
            _failures[run] = failure;
            Volatile.Write(ref _done[run], true);
            Monitor.PulseAll(_progress);
        }
        return true;
    }

    /// <summary>Ends the batch's pass: the rest of the runs done (a caller that stopped early helps), every helper back.</summary>
    private void Finish()
    {
        while (TryRun(0))
        {
        }
        for (var h = 0; h < _helping; h++) _helpers[h].GetAwaiter().GetResult();
        _helping = 0;
        _batch = null;
    }

    private NormalisedRecord One(ConsumedRecord record, Worker worker)
    {
        // Below the archived position: already in the archive (a re-delivery), never twice.
        if (_archived.TryGetValue(record.PartitionKey, out var next) && record.Offset < next)
            return new NormalisedRecord { Skipped = true };
        var doc = worker.Document;
        TelemetryEvent? envelope = null;
        string? error = null;
        try
        {
            envelope = EnvelopeReader.Read(record.Value);
        }
        catch (EnvelopeFormatException ex)
        {
            error = ex.Message;
        }
        var (_, rule) = normaliser.Normalise(record, envelope, error, _ingested, doc);
        var at = worker.Buffer.WrittenCount;
        try
        {
            worker.Write(doc);
        }
        catch (ArgumentException ex)
        {
            // Text JSON cannot carry: keep the record's bytes instead.
            (_, rule) = normaliser.Normalise(record, null, "not representable as JSON: " + ex.Message, _ingested, doc);
            worker.Undo(at);
            worker.Write(doc);
            envelope = null;
        }
        return new NormalisedRecord
        {
            Unreadable = envelope is null,
            Rule = rule,
            EventTime = envelope?.Syslog?.Timestamp,
            Observation = rule is null ? null : detection.Capture(rule.Name, doc),
            // The buffer's array as it is now: it may grow (into a new array) while the sink reads this record's bytes.
            Bytes = worker.WrittenArray,
            At = at,
            Length = worker.Buffer.WrittenCount - at,
        };
    }

    /// <summary>One batch's pass over its records in order (<see cref="Start"/>); disposing it ends the pass.</summary>
    public readonly struct BatchPass(BatchNormaliser owner) : IDisposable
    {
        /// <summary>The record at <paramref name="index"/>, normalised; throws what normalising its run threw.</summary>
        public ref readonly NormalisedRecord Await(int index) => ref owner.Await(index);

        public void Dispose() => owner.Finish();
    }

    private sealed class Helper(BatchNormaliser owner, int worker)
    {
        public void Work()
        {
            while (owner.TryRun(worker))
            {
            }
        }
    }

    /// <summary>A thread's document, JSON writer and the buffer its documents go to.</summary>
    private sealed class Worker
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new(1 << 20);
        public EcsDocument Document { get; } = new();
        private readonly Utf8JsonWriter _json;

        public Worker() => _json = new Utf8JsonWriter(Buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        /// <summary>The array the written bytes are in now.</summary>
        public byte[] WrittenArray => MemoryMarshal.TryGetArray(Buffer.WrittenMemory, out var segment) ? segment.Array! : [];

        public void Write(EcsDocument doc)
        {
            _json.Reset(Buffer);
            doc.WriteTo(_json);
            _json.Flush();
        }

        /// <summary>Drops what a failed write left after <paramref name="at"/>.</summary>
        public void Undo(int at)
        {
            var kept = Buffer.WrittenSpan[..at].ToArray();
            Buffer.ResetWrittenCount();
            Buffer.Write(kept);
        }
    }
}
