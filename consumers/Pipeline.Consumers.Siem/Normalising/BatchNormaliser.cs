using System.Buffers;
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
    internal int Worker;
    internal int At;
    internal int Length;
}

/// <summary>
/// The half of a batch that each record does on its own — decode the envelope, normalise and classify it, write its
/// ECS document as JSON — done for the whole batch first, on every core the machine has (records taken in small
/// runs by whichever thread is free, so a core busy elsewhere only does less). What needs the batch's order (the
/// hash chain, detection, the commit) then runs on the sink's thread over these results: the archive is byte for
/// byte what one thread would have written. The JSON lives in buffers kept from batch to batch, and each thread
/// reuses one document: nothing of an event outlives its turn but its bytes and what detection needs (events kept
/// until the batch's end would survive the collections on the way and cost the collector more than the work saved).
/// Not thread-safe itself: one batch at a time.
/// </summary>
internal sealed class BatchNormaliser(EcsNormaliser normaliser, DetectionEngine detection, int threads)
{
    private const int Run = 64;
    private readonly Worker[] _workers = Enumerable.Range(0, Math.Max(1, threads)).Select(_ => new Worker()).ToArray();
    private NormalisedRecord[] _records = [];

    public BatchNormaliser(EcsNormaliser normaliser, DetectionEngine detection) : this(normaliser, detection, Environment.ProcessorCount)
    {
    }

    /// <summary>Each record of <paramref name="batch"/>, normalised; the span is valid until the next call.</summary>
    public ReadOnlySpan<NormalisedRecord> Normalise(SinkBatch batch, IReadOnlyDictionary<PartitionKey, long> archived, DateTimeOffset ingested)
    {
        var count = batch.Records.Count;
        if (_records.Length < count) Array.Resize(ref _records, count);
        foreach (var worker in _workers) worker.Buffer.ResetWrittenCount();
        var next = -Run;
        var records = _records;
        void Work(int w)
        {
            var worker = _workers[w];
            for (var from = Interlocked.Add(ref next, Run); from < count; from = Interlocked.Add(ref next, Run))
                for (var i = from; i < Math.Min(count, from + Run); i++)
                    records[i] = One(batch.Records[i], worker, w, archived, ingested);
        }
        if (_workers.Length == 1 || count <= Run) Work(0);
        else
        {
            try
            {
                Parallel.For(0, _workers.Length, new ParallelOptions { MaxDegreeOfParallelism = _workers.Length }, Work);
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                // The sink's callers tell failures by their type (a record at fault, or the sink unable to write).
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            }
        }
        return records.AsSpan(0, count);
    }

    /// <summary>The ECS document's JSON of <paramref name="record"/>.</summary>
    public ReadOnlySpan<byte> Json(in NormalisedRecord record) => _workers[record.Worker].Buffer.WrittenSpan.Slice(record.At, record.Length);

    private NormalisedRecord One(ConsumedRecord record, Worker worker, int w, IReadOnlyDictionary<PartitionKey, long> archived, DateTimeOffset ingested)
    {
        // Below the archived position: already in the archive (a re-delivery), never twice.
        if (archived.TryGetValue(record.PartitionKey, out var next) && record.Offset < next)
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
        var (_, rule) = normaliser.Normalise(record, envelope, error, ingested, doc);
        var at = worker.Buffer.WrittenCount;
        try
        {
            worker.Write(doc);
        }
        catch (ArgumentException ex)
        {
            // Text JSON cannot carry: keep the record's bytes instead.
            (_, rule) = normaliser.Normalise(record, null, "not representable as JSON: " + ex.Message, ingested, doc);
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
            Worker = w,
            At = at,
            Length = worker.Buffer.WrittenCount - at,
        };
    }

    /// <summary>A thread's document, JSON writer and the buffer its documents go to.</summary>
    private sealed class Worker
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new(1 << 20);
        public EcsDocument Document { get; } = new();
        private readonly Utf8JsonWriter _json;

        public Worker() => _json = new Utf8JsonWriter(Buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

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
