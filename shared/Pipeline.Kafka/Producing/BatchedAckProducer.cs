using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Pipeline.Kafka.Native;

namespace Pipeline.Kafka.Producing;

/// <summary>
/// A delivery report: the opaque the message was produced with, how it ended, and the message itself.
/// The message's bytes are librdkafka's and valid only during the callback that handed the report over.
/// </summary>
public readonly unsafe struct Delivery
{
    // rd_kafka_message_t (rdkafka.h): err @0, rkt @8, partition @16, payload @24, len @32, key @40,
    // key_len @48, offset @56, _private (the opaque) @64.
    private readonly byte* _message;

    internal Delivery(IntPtr message) => _message = (byte*)message;

    public long Opaque => *(long*)(_message + 64);

    public ErrorCode Error => (ErrorCode)(*(int*)_message);

    /// <summary>The value's length in bytes.</summary>
    public int ValueLength => (int)*(nuint*)(_message + 32);

    /// <summary>The value; valid only inside the report callback.</summary>
    public ReadOnlySpan<byte> Value => new(*(void**)(_message + 24), ValueLength);

    /// <summary>Whether the message had a key (an empty key is a key).</summary>
    public bool HasKey => *(void**)(_message + 40) is not null;

    /// <summary>The key; valid only inside the report callback.</summary>
    public ReadOnlySpan<byte> Key => new(*(void**)(_message + 40), (int)*(nuint*)(_message + 48));

    /// <summary>The topic's name (allocates: meant for the rare paths, such as a failed delivery).</summary>
    public string Topic => Marshal.PtrToStringUTF8(LibRdKafka.TopicName(*(IntPtr*)(_message + 8)))!;
}

/// <summary>What became of a produce call.</summary>
public enum ProduceStatus
{
    Queued,
    /// <summary>librdkafka's own queue is full (queue.buffering.max.*): nothing was queued.</summary>
    QueueFull,
    /// <summary>Refused at once for another reason (see the error code): nothing was queued.</summary>
    Refused,
}

/// <summary>
/// Hands messages to Kafka, each with a 64-bit opaque its delivery report will carry. The seam between the
/// edge's publishing parts and librdkafka, so that those parts are unit-tested without a broker.
/// </summary>
public interface IOpaqueProducer
{
    /// <summary>
    /// Queues one message (key and value are copied); its report will carry <paramref name="opaque"/>. Its
    /// timestamp is <paramref name="timestampMs"/> (Unix milliseconds; 0: the time of this call).
    /// </summary>
    ProduceStatus TryProduce(string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, long opaque, out ErrorCode error,
        long timestampMs = 0);
}

/// <summary>
/// A librdkafka producer driven directly, for the edge's hot path, where Confluent.Kafka's per-message
/// delivery handler cost more CPU than everything else the edge does per event (measured: 4.0 µs against
/// 1.8 µs per message for the same messages and settings). Messages go out with <c>rd_kafka_produceva</c>
/// carrying a 64-bit opaque instead of a GC handle; delivery reports come back through librdkafka's event
/// API in batches (<c>rd_kafka_event_message_array</c>) on one thread, and are handed over as a span. It also
/// gives the purge Confluent.Kafka does not expose, so a shutdown can take back what Kafka never acknowledged.
/// Settings come from the same <see cref="ProducerConfig"/> as any Confluent.Kafka producer. Thread-safe.
/// </summary>
public sealed unsafe class BatchedAckProducer : IOpaqueProducer, IDisposable
{
    private readonly IntPtr _handle;
    private readonly IntPtr _queue;
    private readonly ConcurrentDictionary<string, IntPtr> _topics = new(StringComparer.Ordinal);
    private readonly Action<ReadOnlySpan<Delivery>> _onDeliveries;
    private readonly Action<Error> _onError;
    private readonly Action<int, string>? _onLog;
    private readonly Thread _poller;
    private readonly (IntPtr Name, IntPtr Value, int Size)[] _headers;
    private volatile bool _stopping;
    private int _disposed;

    /// <param name="config">librdkafka settings (Confluent.Kafka's own <c>dotnet.*</c> settings are ignored).</param>
    /// <param name="headers">Headers every message carries (e.g. the schema version).</param>
    /// <param name="onDeliveries">Called on the report thread with each batch of delivery reports.</param>
    /// <param name="onError">Client-level errors (e.g. all brokers down).</param>
    /// <param name="onLog">librdkafka's log lines of level warning or worse (syslog levels).</param>
    public BatchedAckProducer(ProducerConfig config, IReadOnlyList<KeyValuePair<string, byte[]>> headers,
        Action<ReadOnlySpan<Delivery>> onDeliveries, Action<Error> onError, Action<int, string>? onLog = null)
    {
        LoadedLibrary.Ensure();
        _onDeliveries = onDeliveries;
        _onError = onError;
        _onLog = onLog;
        var conf = LibRdKafka.ConfNew();
        var errstr = new byte[512];
        foreach (var (key, value) in config.Where(c => !c.Key.StartsWith("dotnet.", StringComparison.Ordinal)).Append(new("log.queue", "true")))
        {
            if (LibRdKafka.ConfSet(conf, key, value, errstr, (UIntPtr)errstr.Length) != 0)
            {
                LibRdKafka.ConfDestroy(conf);
                throw new ArgumentException($"Kafka setting {key}: {Text(errstr)}");
            }
        }
        LibRdKafka.ConfSetEvents(conf, LibRdKafka.EventDeliveryReport | LibRdKafka.EventErrorKind | LibRdKafka.EventLogLine);
        _handle = LibRdKafka.New(LibRdKafka.ProducerType, conf, errstr, (UIntPtr)errstr.Length);
        if (_handle == IntPtr.Zero)
        {
            LibRdKafka.ConfDestroy(conf);
            throw new ArgumentException("could not create the Kafka producer: " + Text(errstr));
        }
        _queue = LibRdKafka.QueueGetMain(_handle);
        // Log lines as events on the main queue (with the reports), not printed to stderr by librdkafka.
        if (LibRdKafka.SetLogQueue(_handle, IntPtr.Zero) != 0) throw new InvalidOperationException("rd_kafka_set_log_queue failed");
        _headers = headers.Select(h => (Marshal.StringToCoTaskMemUTF8(h.Key), CopyToNative(h.Value), h.Value.Length)).ToArray();
        _poller = new Thread(PollReports) { IsBackground = true, Name = "kafka-delivery-reports" };
        _poller.Start();
    }

    /// <summary>Messages handed over and not yet reported (queued or in flight).</summary>
    public int Outstanding => LibRdKafka.OutqLen(_handle);

    /// <summary>
    /// Queues one message (key and value are copied); its report will carry <paramref name="opaque"/>. Its
    /// timestamp is <paramref name="timestampMs"/> (Unix milliseconds; 0: the time of this call).
    /// </summary>
    public ProduceStatus TryProduce(string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, long opaque, out ErrorCode error,
        long timestampMs = 0)
    {
        var rkt = _topics.GetOrAdd(topic, static (name, handle) => LibRdKafka.TopicNew(handle, name, IntPtr.Zero), _handle);
        var arguments = stackalloc ProduceArgument[6 + _headers.Length];
        var count = 0;
        IntPtr failure;
        fixed (byte* valuePointer = value)
        fixed (byte* keyPointer = key)
        {
            arguments[count++] = ProduceArgument.Of(ProduceArgument.Topic, rkt);
            arguments[count++] = ProduceArgument.Of(ProduceArgument.Value, (IntPtr)valuePointer, value.Length);
            if (hasKey) arguments[count++] = ProduceArgument.Of(ProduceArgument.Key, (IntPtr)keyPointer, key.Length);
            arguments[count++] = ProduceArgument.Of(ProduceArgument.Opaque, new IntPtr(opaque));
            arguments[count++] = ProduceArgument.Of(ProduceArgument.Flags, LibRdKafka.MessageCopy);
            if (timestampMs > 0) arguments[count++] = ProduceArgument.Of(ProduceArgument.Timestamp, new IntPtr(timestampMs));
            foreach (var (name, headerValue, size) in _headers)
                arguments[count++] = ProduceArgument.Of(ProduceArgument.Header, name, headerValue, size);
            failure = LibRdKafka.ProduceVa(_handle, arguments, (UIntPtr)count);
        }
        if (failure == IntPtr.Zero)
        {
            error = ErrorCode.NoError;
            return ProduceStatus.Queued;
        }
        error = (ErrorCode)LibRdKafka.ErrorCode(failure);
        LibRdKafka.ErrorDestroy(failure);
        return error == ErrorCode.Local_QueueFull ? ProduceStatus.QueueFull : ProduceStatus.Refused;
    }

    /// <summary>Waits until every message is reported or <paramref name="timeout"/> passes; returns how many are left.</summary>
    public int Flush(TimeSpan timeout)
    {
        // Timing out is an answer, not an error: what is left is returned.
        _ = LibRdKafka.Flush(_handle, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        return Outstanding;
    }

    /// <summary>
    /// Gives up on every message not yet acknowledged: each is reported with Local_PurgeQueue or
    /// Local_PurgeInflight (an in-flight one may still have reached Kafka).
    /// </summary>
    public void PurgeAll()
    {
        var err = LibRdKafka.Purge(_handle, LibRdKafka.PurgeQueue | LibRdKafka.PurgeInFlight);
        if (err != 0) throw new InvalidOperationException("rd_kafka_purge failed: " + LibRdKafka.ErrorName(err));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        // Reports of purged messages are delivered before the report thread stops.
        PurgeAll();
        var deadline = Environment.TickCount64 + 5000;
        while (Outstanding > 0 && Environment.TickCount64 < deadline) Thread.Sleep(10);
        _stopping = true;
        _poller.Join(TimeSpan.FromSeconds(5));
        foreach (var rkt in _topics.Values) LibRdKafka.TopicDestroy(rkt);
        LibRdKafka.QueueDestroy(_queue);
        LibRdKafka.Destroy(_handle);
        foreach (var (name, value, _) in _headers)
        {
            Marshal.FreeCoTaskMem(name);
            Marshal.FreeCoTaskMem(value);
        }
    }

    private void PollReports()
    {
        var messages = new IntPtr[1024];
        var deliveries = new Delivery[1024];
        while (!_stopping)
        {
            var ev = LibRdKafka.QueuePoll(_queue, 100);
            if (ev == IntPtr.Zero) continue;
            try
            {
                switch (LibRdKafka.EventType(ev))
                {
                    case LibRdKafka.EventDeliveryReport:
                        int got;
                        fixed (IntPtr* array = messages)
                        {
                            while ((got = (int)LibRdKafka.EventMessageArray(ev, array, (UIntPtr)messages.Length)) > 0)
                            {
                                for (var i = 0; i < got; i++) deliveries[i] = new Delivery(array[i]);
                                // The messages stay alive until the event is destroyed, after the callback.
                                _onDeliveries(deliveries.AsSpan(0, got));
                            }
                        }
                        break;
                    case LibRdKafka.EventErrorKind:
                        var code = (ErrorCode)LibRdKafka.EventError(ev);
                        _onError(new Error(code, Marshal.PtrToStringUTF8(LibRdKafka.EventErrorString(ev)) ?? code.ToString(), LibRdKafka.EventErrorIsFatal(ev) != 0));
                        break;
                    case LibRdKafka.EventLogLine:
                        if (LibRdKafka.EventLog(ev, out _, out var text, out var level) == 0 && level <= 4)
                            _onLog?.Invoke(level, Marshal.PtrToStringUTF8(text) ?? "");
                        break;
                }
            }
            finally
            {
                LibRdKafka.EventDestroy(ev);
            }
        }
    }

    private static IntPtr CopyToNative(byte[] bytes)
    {
        var native = Marshal.AllocCoTaskMem(Math.Max(1, bytes.Length));
        Marshal.Copy(bytes, 0, native, bytes.Length);
        return native;
    }

    private static string Text(byte[] errstr)
    {
        var end = Array.IndexOf(errstr, (byte)0);
        return Encoding.UTF8.GetString(errstr, 0, end < 0 ? errstr.Length : end);
    }
}
