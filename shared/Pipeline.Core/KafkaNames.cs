namespace Pipeline.Core;

/// <summary>Topic names every executable agrees on. Routes may name others.</summary>
public static class Topics
{
    public const string Syslog = "syslog";
    public const string Events = "events";
    public const string Metrics = "metrics";
    public const string Alerts = "alerts";
    public const string TopK = "topk";

    /// <summary>The dead-letter topic of a consumer group: <c>dlq.&lt;group&gt;</c>.</summary>
    public static string DeadLetter(string group) => "dlq." + group;
}

/// <summary>Kafka header names.</summary>
public static class KafkaHeaders
{
    /// <summary>Envelope schema version ("1").</summary>
    public const string Schema = "schema";
    public const string ContentType = "content-type";

    // Dead-letter headers: why the sink refused the record and where it came from.
    public const string DlqReason = "dlq.reason";
    public const string DlqTopic = "dlq.topic";
    public const string DlqPartition = "dlq.partition";
    public const string DlqOffset = "dlq.offset";
    public const string DlqGroup = "dlq.group";
}
