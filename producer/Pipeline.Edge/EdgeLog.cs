using Microsoft.Extensions.Logging;

namespace Pipeline.Edge;

/// <summary>Every log line the edge writes, in one place.</summary>
internal static partial class EdgeLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening for syslog over {Transport} on {Endpoint} (listener {Listener})")]
    public static partial void ListeningSyslog(ILogger logger, string transport, string endpoint, string listener);

    [LoggerMessage(2, LogLevel.Warning, "Kafka error {Code}: {Reason}")]
    public static partial void KafkaError(ILogger logger, string code, string reason);

    [LoggerMessage(3, LogLevel.Error, "Kafka refused an event for good ({Code}: {Reason}); counted as dropped (kafka_rejected)")]
    public static partial void DeliveryFailed(ILogger logger, string code, string reason);

    [LoggerMessage(4, LogLevel.Error, "Receive loop of listener {Listener} failed; restarting it")]
    public static partial void ReceiveLoopFailed(ILogger logger, Exception exception, string listener);

    [LoggerMessage(5, LogLevel.Information, "Edge stopping: flushing {Pending} events to Kafka")]
    public static partial void Flushing(ILogger logger, int pending);

    [LoggerMessage(6, LogLevel.Warning, "Edge stopped with {Pending} events not acknowledged by Kafka")]
    public static partial void FlushIncomplete(ILogger logger, int pending);
}
