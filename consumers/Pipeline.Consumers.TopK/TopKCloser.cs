using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// The aggregator's clock: every <see cref="TopKOptions.CloseInterval"/> it closes the windows of idle
/// partitions that the wall clock says are due (a quiet stream must not hold a result back), publishes
/// closed windows not yet published, and once an hour deletes windows past retention.
/// </summary>
internal sealed class TopKCloser(TopKSink sink, TopKPublisher publisher, TopKStore store, TopKOptions options, TimeProvider time, ILogger<TopKCloser> log)
    : BackgroundService
{
    private DateTimeOffset _nextRetention = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CloseInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await TickAsync(stoppingToken);
    }

    /// <summary>One round: close, publish, expire. Each step's failure is logged and retried next round.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        try
        {
            await sink.CloseDueAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            TopKLog.CloseFailed(log, ex, options.CloseInterval);
        }
        try
        {
            await publisher.PublishPendingAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            TopKLog.PublishFailed(log, ex, options.PublishTopic);
        }
        var now = time.GetUtcNow();
        if (options.RetentionDays > 0 && now >= _nextRetention)
        {
            _nextRetention = now + TimeSpan.FromHours(1);
            try
            {
                var rows = await store.DeleteBeforeAsync(now - TimeSpan.FromDays(options.RetentionDays), cancellationToken);
                if (rows > 0) TopKLog.Expired(log, rows, options.RetentionDays);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                TopKLog.RetentionFailed(log, ex);
            }
        }
    }
}
