using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Pipeline.Core.Envelope;
using Pipeline.Core.Ids;
using Pipeline.Kafka.Producing;

namespace Pipeline.Bench;

/// <summary>
/// Publishes v1 envelopes at a steady rate, as the edge would (idempotent, lz4, the edge's linger, keyed by host),
/// each stamped with its receive time just before it is handed to the producer, so that a sink's
/// freshness (commit time − <c>received_at</c>) is measured from the moment the event would have arrived.
/// </summary>
internal sealed class SteadyProducer : IDisposable
{
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _topic;
    private readonly int _rate;
    private readonly Thread _thread;
    private readonly TimeSpan _duration;
    private long _sent;
    private long _failed;

    private SteadyProducer(string bootstrap, string topic, int rate, TimeSpan duration)
    {
        _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = new ProducerSettings().LingerMs,
            CompressionType = CompressionType.Lz4,
        }).SetLogHandler((_, _) => { }).Build();
        _topic = topic;
        _rate = rate;
        _duration = duration;
        _thread = new Thread(Run) { IsBackground = true, Name = "steady-producer" };
    }

    public long Sent => Interlocked.Read(ref _sent);
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Starts sending <paramref name="rate"/> events a second for <paramref name="duration"/>.</summary>
    public static SteadyProducer Start(string bootstrap, string topic, int rate, TimeSpan duration)
    {
        var producer = new SteadyProducer(bootstrap, topic, rate, duration);
        producer._thread.Start();
        return producer;
    }

    /// <summary>Waits until every event is sent and acknowledged.</summary>
    public void Wait()
    {
        _thread.Join();
        _producer.Flush(TimeSpan.FromMinutes(1));
    }

    private void Run()
    {
        var clock = Stopwatch.StartNew();
        var total = (long)(_rate * _duration.TotalSeconds);
        var hosts = Enumerable.Range(0, 64).Select(i => $"host-{i:D2}").ToArray();
        var keys = hosts.Select(Encoding.UTF8.GetBytes).ToArray();
        while (_sent < total)
        {
            // Catch up to where the rate says we should be, then sleep a tick: steady, not bursty beyond 10 ms.
            var due = Math.Min(total, (long)(clock.Elapsed.TotalSeconds * _rate));
            while (_sent < due)
            {
                var i = (int)(_sent % hosts.Length);
                var now = DateTimeOffset.UtcNow;
                var envelope = new TelemetryEvent
                {
                    Id = Ulid.NewString(now),
                    ReceivedAt = now,
                    Kind = EventKinds.Log,
                    Source = new EventSource { Transport = "tcp", Ip = "192.0.2.10", Port = 514, Edge = "bench" },
                    Syslog = new SyslogFields { Facility = 3, Severity = 6, Hostname = hosts[i], AppName = "bench", Rfc = "5424" },
                    Message = "steady load event " + _sent,
                    ParseStatus = "ok",
                };
                Send(new Message<byte[]?, byte[]> { Key = keys[i], Value = EnvelopeCodec.Encode(envelope) });
                Interlocked.Increment(ref _sent);
            }
            Thread.Sleep(10);
        }
    }

    private void Send(Message<byte[]?, byte[]> message)
    {
        while (true)
        {
            try
            {
                _producer.Produce(_topic, message, r => { if (r.Error.IsError) Interlocked.Increment(ref _failed); });
                return;
            }
            catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(5));
            }
        }
    }

    public void Dispose() => _producer.Dispose();
}
