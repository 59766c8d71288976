using Microsoft.Extensions.Logging;

namespace Pipeline.Kafka.Consuming;

/// <summary>Every log line of the consumer runtime.</summary>
internal static partial class ConsumerLog
{
    [LoggerMessage(101, LogLevel.Information, "Group {Group}: assigned {Partitions}")]
    public static partial void Assigned(ILogger logger, string group, string partitions);

    [LoggerMessage(102, LogLevel.Information, "Group {Group}: revoked {Partitions}")]
    public static partial void Revoked(ILogger logger, string group, string partitions);

    [LoggerMessage(103, LogLevel.Warning, "Group {Group}: lost {Partitions}; their unwritten records are discarded")]
    public static partial void Lost(ILogger logger, string group, string partitions);

    [LoggerMessage(104, LogLevel.Warning, "Group {Group}: sink write failed (attempt {Attempt}); partitions paused, retrying in {Delay}")]
    public static partial void WriteFailed(ILogger logger, Exception exception, string group, int attempt, TimeSpan delay);

    [LoggerMessage(105, LogLevel.Information, "Group {Group}: sink writes again after {Attempts} failed attempts; partitions resumed")]
    public static partial void WriteRecovered(ILogger logger, string group, int attempts);

    [LoggerMessage(106, LogLevel.Warning, "Group {Group}: {Topic}[{Partition}]@{Offset} sent to {DeadLetterTopic}: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string group, string topic, int partition, long offset, string deadLetterTopic, string reason);

    [LoggerMessage(107, LogLevel.Warning, "Group {Group}: could not finish the batch in hand within the drain timeout; {Count} records abandoned to be read again")]
    public static partial void Abandoned(ILogger logger, string group, int count);

    [LoggerMessage(108, LogLevel.Warning, "Group {Group}: offset commit failed: {Reason}")]
    public static partial void CommitFailed(ILogger logger, string group, string reason);

    [LoggerMessage(109, LogLevel.Warning, "Group {Group}: could not read stored offsets for {Partitions}; holding them until the sink answers")]
    public static partial void OffsetsUnavailable(ILogger logger, Exception exception, string group, string partitions);

    [LoggerMessage(110, LogLevel.Information, "Group {Group}: consuming {Topics} (from {From} when no position is stored), batches of {BatchSize} or {BatchWait}")]
    public static partial void Starting(ILogger logger, string group, string topics, string from, int batchSize, TimeSpan batchWait);

    [LoggerMessage(111, LogLevel.Information, "Group {Group}: left the group")]
    public static partial void Stopped(ILogger logger, string group);

    [LoggerMessage(112, LogLevel.Warning, "Group {Group}: Kafka error {Code}: {Reason}")]
    public static partial void KafkaError(ILogger logger, string group, string code, string reason);

    [LoggerMessage(113, LogLevel.Error, "Group {Group}: poll loop failed")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string group);

    [LoggerMessage(114, LogLevel.Information, "Group {Group}: {Partition} read up to its end offset {Offset}")]
    public static partial void ReachedStop(ILogger logger, string group, string partition, long offset);

    [LoggerMessage(115, LogLevel.Information, "Group {Group}: bounded run done; all {Partitions} partitions read to their end offsets and written")]
    public static partial void BoundedRunDone(ILogger logger, string group, int partitions);

    [LoggerMessage(116, LogLevel.Information, "Group {Group}: member {InstanceId} ({Protocol} protocol, session {Session}, heartbeat {Heartbeat})")]
    public static partial void Membership(ILogger logger, string group, string instanceId, string protocol, string session, string heartbeat);
}
