using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// The aggregator's clock: every <see cref="TopKOptions.CloseInterval"/> it closes the windows of idle
/// partitions that the wall clock says are due (a quiet stream must not hold a result back) and once an
/// hour deletes windows past retention; beside it, a second loop publishes closed windows not yet published.
/// </summary>
internal sealed class TopKCloser(TopKSink sink, TopKPublisher publisher, StoredWindows store, TopKOptions options, TimeProvider time, ILogger<TopKCloser> log)
    : BackgroundService
{
    private DateTimeOffset _nextRetention = DateTimeOffset.MinValue;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // Two loops: a Kafka that does not take results (timeouts) must not hold window closing back.
        Task.WhenAll(LoopAsync(CloseAsync, stoppingToken), LoopAsync(PublishAsync, stoppingToken));

    private async Task LoopAsync(Func<CancellationToken, Task> step, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CloseInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await step(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: close what is due, and once an hour delete windows past retention. Failures are logged and retried next round.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        try
        {
            await sink.CloseDueAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            TopKLog.CloseFailed(log, ex, options.CloseInterval);
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

    /// <summary>One round of publishing closed windows; a failure is logged and retried next round.</summary>
    public async Task PublishAsync(CancellationToken cancellationToken)
    {
        try
        {
            await publisher.PublishPendingAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            TopKLog.PublishFailed(log, ex, options.PublishTopic);
        }
    }
}
