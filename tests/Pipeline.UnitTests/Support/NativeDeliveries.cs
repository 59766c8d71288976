using System.Runtime.InteropServices;
using Confluent.Kafka;
using Pipeline.Kafka.Producing;

namespace Pipeline.UnitTests.Support;

/// <summary>
/// Delivery reports as librdkafka hands them over (rd_kafka_message_t laid out in native memory), so that the
/// parts that read them are tested without a broker. The topic handle is null: only reports whose topic is
/// never read (successes, spool records) can be made.
/// </summary>
internal sealed unsafe class NativeDeliveries : IDisposable
{
    private readonly List<IntPtr> _blocks = [];

    public Delivery Make(long opaque, ErrorCode error, ReadOnlySpan<byte> value)
    {
        var message = (byte*)Allocate(72);
        var payload = (byte*)Allocate(Math.Max(1, value.Length));
        value.CopyTo(new Span<byte>(payload, value.Length));
        *(int*)message = (int)error;
        *(void**)(message + 24) = payload;
        *(nuint*)(message + 32) = (nuint)value.Length;
        *(long*)(message + 64) = opaque;
        return new Delivery((IntPtr)message);
    }

    public void Dispose()
    {
        foreach (var block in _blocks) NativeMemory.Free((void*)block);
        _blocks.Clear();
    }

    private IntPtr Allocate(int bytes)
    {
        var block = (IntPtr)NativeMemory.AllocZeroed((nuint)bytes);
        _blocks.Add(block);
        return block;
    }
}

/// <summary>A producer that queues nothing: it records each call and answers as told.</summary>
internal sealed class RecordingProducer : IOpaqueProducer
{
    public List<(string Topic, byte[] Value, long Opaque)> Produced { get; } = [];

    /// <summary>Messages queued so far, for a test thread watching a producing thread (read with <see cref="Volatile"/>).</summary>
    public int ProducedCount;

    /// <summary>What the next calls answer (default: queued).</summary>
    public Queue<(ProduceStatus Status, ErrorCode Error)> Answers { get; } = new();

    public ProduceStatus TryProduce(string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, long opaque, out ErrorCode error,
        long timestampMs = 0)
    {
        var (status, code) = Answers.TryDequeue(out var answer) ? answer : (ProduceStatus.Queued, ErrorCode.NoError);
        error = code;
        if (status == ProduceStatus.Queued)
        {
            Produced.Add((topic, value.ToArray(), opaque));
            Volatile.Write(ref ProducedCount, Produced.Count);
        }
        return status;
    }
}
