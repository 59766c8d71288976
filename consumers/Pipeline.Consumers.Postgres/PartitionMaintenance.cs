using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pipeline.Consumers.Postgres;

/// <summary>At start-up and every interval: create today's and tomorrow's partitions of <c>events</c> and <c>metrics</c>, drop expired days of each.</summary>
internal sealed class PartitionMaintenance(EventPartitions events, MetricPartitions metrics, PostgresOptions options, TimeProvider time,
    ILogger<PartitionMaintenance> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.MaintenanceInterval, time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                PostgresLog.MaintenanceFailed(log, ex);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await MaintainAsync(events, options.RetentionDays, cancellationToken);
        await MaintainAsync(metrics, options.MetricsRetentionDays, cancellationToken);
    }

    private async Task MaintainAsync(DayPartitions partitions, int retentionDays, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        await partitions.EnsureAsync([today, today.AddDays(1)], cancellationToken);
        var dropped = await partitions.DropExpiredAsync(retentionDays, now, cancellationToken);
        if (dropped.Count > 0) PostgresLog.Dropped(log, partitions.Table, string.Join(",", dropped), retentionDays);
    }
}
