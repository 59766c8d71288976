using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Hosting;

namespace Pipeline.Edge.Publishing;

/// <summary>
/// Whether Kafka is taking the edge's messages, as the health endpoint and the admission policy see it. Health
/// changes on state changes only, not per delivery.
/// </summary>
internal sealed class KafkaReachability
{
    private readonly HealthState _health;
    private readonly MemoryBuffer _memory;
    private readonly ILogger _log;
    private int _down;

    public KafkaReachability(HealthState health, MemoryBuffer memory, ILogger log)
    {
        _health = health;
        _memory = memory;
        _log = log;
        _health.Report("kafka", true, "connecting");
    }

    /// <summary>Kafka acknowledged something.</summary>
    public void Acknowledged()
    {
        _memory.Progress();
        if (Volatile.Read(ref _down) == 1 && Interlocked.Exchange(ref _down, 0) == 1) _health.Report("kafka", true, "delivering");
    }

    /// <summary>A client-level error from the producer.</summary>
    public void OnError(Error error)
    {
        if (error.Code == ErrorCode.Local_AllBrokersDown)
        {
            Volatile.Write(ref _down, 1);
            _health.Report("kafka", false, error.Reason);
        }
        EdgeLog.KafkaError(_log, error.Code.ToString(), error.Reason);
    }

    /// <summary>Refusals that no retry will change.</summary>
    public static bool IsPermanent(ErrorCode error) =>
        error is ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg or ErrorCode.InvalidRecord
            or ErrorCode.TopicAuthorizationFailed or ErrorCode.Local_InvalidArg or ErrorCode.TopicException;
}
