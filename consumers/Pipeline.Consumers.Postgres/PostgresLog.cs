using Microsoft.Extensions.Logging;

namespace Pipeline.Consumers.Postgres;

internal static partial class PostgresLog
{
    [LoggerMessage(202, LogLevel.Information, "Retention: dropped day partitions {Days} of {Table} (older than {RetentionDays} days)")]
    public static partial void Dropped(ILogger logger, string table, string days, int retentionDays);

    [LoggerMessage(203, LogLevel.Warning, "Partition maintenance failed; retrying at the next interval")]
    public static partial void MaintenanceFailed(ILogger logger, Exception exception);
}
