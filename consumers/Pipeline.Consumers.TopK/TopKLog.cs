using Microsoft.Extensions.Logging;

namespace Pipeline.Consumers.TopK;

/// <summary>The aggregator's log events, typed in one place (counters beside them in <see cref="TopKMetrics"/>).</summary>
internal static partial class TopKLog
{
    [LoggerMessage(601, LogLevel.Information, "Top-k state loaded for {Partitions}: {Windows} open windows, resuming at {Offsets}")]
    public static partial void Loaded(ILogger logger, string partitions, int windows, string offsets);

    [LoggerMessage(602, LogLevel.Information, "Top-k state dropped for revoked partitions {Partitions}")]
    public static partial void Dropped(ILogger logger, string partitions);

    [LoggerMessage(603, LogLevel.Warning, "Checkpoint failed; the counts are kept in memory and stored by the next checkpoint (until then a crash reads their records again)")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(604, LogLevel.Warning, "Partitions {Partitions} were taken over by another member (ownership epoch moved on); their counts here are dropped")]
    public static partial void Fenced(ILogger logger, string partitions);

    [LoggerMessage(605, LogLevel.Information, "Closed {Windows} windows")]
    public static partial void Closed(ILogger logger, int windows);

    [LoggerMessage(606, LogLevel.Warning, "Closing due windows failed; retrying in {Interval}")]
    public static partial void CloseFailed(ILogger logger, Exception exception, TimeSpan interval);

    [LoggerMessage(607, LogLevel.Warning, "Publishing closed windows to {Topic} failed; they stay pending")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(608, LogLevel.Information, "Retention: deleted {Rows} window rows older than {Days} days")]
    public static partial void Expired(ILogger logger, int rows, int days);

    [LoggerMessage(609, LogLevel.Warning, "Retention run failed; retrying at the next hour")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(610, LogLevel.Information, "Top-k aggregator: dimensions {Dimensions}; windows {Windows}; capacity {Capacity}; lateness {Lateness}; idle {Idle}; publishing to '{Topic}'")]
    public static partial void Starting(ILogger logger, string dimensions, string windows, int capacity, TimeSpan lateness, TimeSpan idle, string topic);

    [LoggerMessage(611, LogLevel.Warning, "Kafka producer error on {Topic}: {Reason}")]
    public static partial void ProducerError(ILogger logger, string topic, string reason);
}
