using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Hosting;
using Pipeline.Edge;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Publishing.Spool;

namespace Pipeline.UnitTests.Support;

/// <summary>
/// The edge's publishing parts wired as the publisher wires them, over a recording producer, a real spool in a
/// temporary folder and a fake clock.
/// </summary>
internal sealed class PublishingParts : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("publishing-test-").FullName;
    private readonly PrivateMeters _meters = new();

    public PublishingParts(int drainWindow = 100, MemoryBufferOptions? memory = null, TimeSpan? drainerIdleWait = null)
    {
        var metrics = new EdgeMetrics(_meters);
        Ledger = new LossLedger(metrics);
        Cell = Ledger.Cell("syslog-tcp", "default");
        Spool = new SpoolLog(new SpoolOptions { Directory = _directory, MaxBytes = 1 << 20, SegmentBytes = 64 * 1024 });
        Memory = new MemoryBuffer(memory ?? new MemoryBufferOptions(), Time);
        Kafka = new KafkaReachability(Health, Memory, NullLogger.Instance);
        Policy = new AdmissionPolicy(Memory, new SpoolOptions());
        MemoryPath = new MemoryPath(Producer, Memory, Policy, Pending, Spool, Ledger, Kafka, NullLogger.Instance);
        Drainer = new SpoolDrainer(Producer, Spool, drainWindow, Policy, Pending, Ledger, Kafka, NullLogger.Instance, drainerIdleWait);
        Reports = new DeliveryReports(MemoryPath, Pending, Ledger, metrics.ReceiveToAck, Time);
    }

    public FakeTimeProvider Time { get; } = new();
    public RecordingProducer Producer { get; } = new();
    public NativeDeliveries Deliveries { get; } = new();
    public HealthState Health { get; } = new();
    public PendingDeliveries Pending { get; } = new();
    public LossLedger Ledger { get; }
    public LedgerCell Cell { get; }
    public SpoolLog Spool { get; }
    public MemoryBuffer Memory { get; }
    public KafkaReachability Kafka { get; }
    public AdmissionPolicy Policy { get; }
    public MemoryPath MemoryPath { get; }
    public SpoolDrainer Drainer { get; }
    public DeliveryReports Reports { get; }

    /// <summary>Appends one record to the spool, as the publisher does for a disk-mode event.</summary>
    public void Append(string value)
    {
        Assert.True(Spool.TryAppend(new SpoolEntry(Cell.Listener, Cell.Route, "syslog", default, false, System.Text.Encoding.UTF8.GetBytes(value)), out _));
        Cell.ReceivedIntoSpool();
        Policy.SpoolAppended();
        // Read back once written: the syncer's job in the publisher.
        Spool.Sync();
    }

    /// <summary>Reports one delivery of the message produced with <paramref name="opaque"/>.</summary>
    public void Report(long opaque, Confluent.Kafka.ErrorCode error, string value = "x") =>
        Reports.Handle([Deliveries.Make(opaque, error, System.Text.Encoding.UTF8.GetBytes(value))]);

    public string Value(int produced) => System.Text.Encoding.UTF8.GetString(Producer.Produced[produced].Value);

    public void Dispose()
    {
        Drainer.Dispose();
        Spool.Dispose();
        Deliveries.Dispose();
        _meters.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Meters under a name of their own, so that no exporter another test builds for the edge's meter sees these parts' instruments.</summary>
    private sealed class PrivateMeters : System.Diagnostics.Metrics.IMeterFactory
    {
        private readonly List<System.Diagnostics.Metrics.Meter> _created = [];

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options.Name + ".test-" + Guid.NewGuid().ToString("N"));
            _created.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in _created) meter.Dispose();
        }
    }
}
