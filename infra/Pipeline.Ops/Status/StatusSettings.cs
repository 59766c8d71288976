using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Status;

/// <summary>
/// What the status reader watches: the processes (the edge and each worker, by admin URL), Kafka, the
/// topics and groups to show, where exactly-once groups keep their positions, the top-k query API, and how
/// often everything is read.
/// </summary>
internal sealed record StatusSettings(
    IReadOnlyList<ProcessTarget> Targets,
    KafkaConnection Kafka,
    IReadOnlyList<string> Topics,
    IReadOnlyList<string> Groups,
    string? Postgres,
    string? Archive,
    Uri? TopK,
    TimeSpan Interval)
{
    /// <summary>How long one process may take to answer before it is shown as down.</summary>
    public TimeSpan ProcessTimeout => Interval < TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(1) : Interval / 2;
}
