using Microsoft.Extensions.Logging;

namespace Pipeline.Edge;

/// <summary>Every log line the edge writes, in one place.</summary>
internal static partial class EdgeLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening for syslog over {Transport} on {Endpoint} (listener {Listener})")]
    public static partial void ListeningSyslog(ILogger logger, string transport, string endpoint, string listener);

    [LoggerMessage(2, LogLevel.Warning, "Kafka error {Code}: {Reason}")]
    public static partial void KafkaError(ILogger logger, string code, string reason);

    [LoggerMessage(15, LogLevel.Warning, "Kafka client (level {Level}): {Line}")]
    public static partial void KafkaLog(ILogger logger, int level, string line);

    [LoggerMessage(3, LogLevel.Error, "Kafka refused an event for good ({Code}: {Reason}); counted as dropped (kafka_rejected)")]
    public static partial void DeliveryFailed(ILogger logger, string code, string reason);

    [LoggerMessage(4, LogLevel.Error, "Receive loop of listener {Listener} failed; restarting it")]
    public static partial void ReceiveLoopFailed(ILogger logger, Exception exception, string listener);

    [LoggerMessage(6, LogLevel.Warning, "Kafka did not acknowledge {Pending} events before the shutdown deadline; they go to the spool")]
    public static partial void FlushIncomplete(ILogger logger, int pending);

    [LoggerMessage(7, LogLevel.Warning, "Spool: skipped {Regions} damaged regions ({Bytes} bytes) found at start-up; every intact record is kept")]
    public static partial void SpoolDamaged(ILogger logger, int regions, long bytes);

    [LoggerMessage(8, LogLevel.Information, "Spool: {Records} events from an earlier run will be sent to Kafka")]
    public static partial void SpoolRecovered(ILogger logger, long records);

    [LoggerMessage(9, LogLevel.Information, "Spool: {Count} events not acknowledged by Kafka were written to the spool at shutdown")]
    public static partial void SpooledAtShutdown(ILogger logger, int count);

    [LoggerMessage(10, LogLevel.Error, "Spool drainer failed; retrying")]
    public static partial void DrainFailed(ILogger logger, Exception exception);

    [LoggerMessage(11, LogLevel.Error, "Spool sync failed; retrying at the next interval")]
    public static partial void SpoolSyncFailed(ILogger logger, Exception exception);

    [LoggerMessage(12, LogLevel.Information, "Listening for syslog over {Transport} on {Endpoint} (listener {Listener}, {Framing})")]
    public static partial void ListeningStream(ILogger logger, string transport, string endpoint, string listener, string framing);

    [LoggerMessage(13, LogLevel.Warning, "Listener {Listener}: connection from {Peer} failed: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string listener, string peer, string reason);

    [LoggerMessage(14, LogLevel.Warning, "Listener {Listener}: refused a connection from {Peer}: {Connections} connections already open")]
    public static partial void TooManyConnections(ILogger logger, string listener, string peer, int connections);

    [LoggerMessage(16, LogLevel.Warning, "Listener {Listener}: refused a connection from {Peer}: its address already holds {Connections} connections")]
    public static partial void TooManyConnectionsFromAddress(ILogger logger, string listener, string peer, int connections);

    [LoggerMessage(17, LogLevel.Warning, "Listener {Listener}: refused {Peer}: TLS handshake failed: {Reason}")]
    public static partial void TlsRefused(ILogger logger, string listener, string peer, string reason);
}
