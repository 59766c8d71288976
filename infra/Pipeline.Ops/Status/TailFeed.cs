using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Confluent.Kafka;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Tail;

namespace Pipeline.Ops.Status;

/// <summary>One line of the page's live tail: what <c>ops tail</c> prints, and its parts for the page to style.</summary>
internal sealed record TailEvent(string Topic, DateTimeOffset Time, string Host, string App, string? ProcId, int? Severity, string Label, string Message, string Line);

/// <summary>
/// The page's live tail: records as they arrive, filtered with <c>ops tail</c>'s own filter, streamed as
/// server-sent events. Each open tail reads with a consumer of its own that is assigned the partitions'
/// ends (it joins no group, so it commits nothing and takes nothing from a team). A browser that reads
/// slower than lines come is sent at most <see cref="MaxLinesPerSecond"/>; the rest are counted and the
/// count is sent instead, so a burst never piles up in this process or in the tab.
/// </summary>
internal sealed class TailFeed(KafkaConnection kafka, int maxOpen = 16)
{
    public const int MaxLinesPerSecond = 200;
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private int _open;

    /// <summary>Tails streaming now (the page closes its tail while its tab is hidden).</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>
    /// Claims a place for one more tail, given back when the claim is disposed (at the end of its request,
    /// however it ends); null when <c>maxOpen</c> are streaming already.
    /// </summary>
    public IDisposable? TryClaim()
    {
        if (Interlocked.Increment(ref _open) <= maxOpen) return new Claim(this);
        Interlocked.Decrement(ref _open);
        return null;
    }

    /// <summary>Streams matching lines until the browser goes away.</summary>
    public async IAsyncEnumerable<SseItem<object>> StreamAsync(IReadOnlyList<TopicPartition> partitions, TailFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var lines = Channel.CreateBounded<TailEvent>(new BoundedChannelOptions(MaxLinesPerSecond / 4) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = true });
        var skipped = new StrongBox<long>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Factory.StartNew(() => Read(partitions, filter, lines.Writer, skipped, started, stop.Token), stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var reportedSkipped = 0L;
        try
        {
            // "ready" once the start is pinned: every matching line appended after it is shown.
            await Task.WhenAny(started.Task, reader);
            yield return new SseItem<object>(new { topics = partitions.Select(p => p.Topic).Distinct().ToList() }, "ready");
            while (!cancellationToken.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(KeepAlive);
                bool? more;
                try
                {
                    more = await lines.Reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    more = null;
                }
                if (more is null)
                {
                    // Nothing matched for a while: a ping keeps proxies from closing the stream.
                    yield return new SseItem<object>(new { }, "ping");
                    continue;
                }
                if (more == false) break;
                while (lines.Reader.TryRead(out var line)) yield return new SseItem<object>(line, "line");
                var nowSkipped = Interlocked.Read(ref skipped.Value);
                if (nowSkipped != reportedSkipped)
                {
                    yield return new SseItem<object>(new { skipped = nowSkipped - reportedSkipped }, "skipped");
                    reportedSkipped = nowSkipped;
                }
                // At most MaxLinesPerSecond: the channel holds a quarter second's worth, refilled as this waits.
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private sealed class Claim(TailFeed feed) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Interlocked.Decrement(ref feed._open);
        }
    }

    private void Read(IReadOnlyList<TopicPartition> partitions, TailFilter filter, ChannelWriter<TailEvent> lines, StrongBox<long> skipped,
        TaskCompletionSource started, CancellationToken cancellationToken)
    {
        try
        {
            // The same kind of throw-away consumer as `ops tail`, assigned instead of subscribed: nothing to join, nothing left behind.
            using var consumer = kafka.Consumer("pipeline-ops-status-tail");
            // The ends asked for now, not "the end" resolved whenever fetching begins: what comes after this moment is not missed.
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, End(consumer, p))));
            started.TrySetResult();
            while (!cancellationToken.IsCancellationRequested)
            {
                ConsumeResult<byte[]?, byte[]>? result;
                try
                {
                    result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                }
                catch (ConsumeException)
                {
                    continue;
                }
                if (result?.Message is null) continue;
                var line = TailLine.From(result.Message.Value ?? [], new DateTimeOffset(result.Message.Timestamp.UtcDateTime, TimeSpan.Zero));
                if (!filter.Matches(line)) continue;
                var sent = new TailEvent(result.Topic, line.Time, line.Host, line.App, line.ProcId, line.Severity, line.Label, line.Message, line.ToString());
                if (!lines.TryWrite(sent)) Interlocked.Increment(ref skipped.Value);
            }
            consumer.Close();
        }
        finally
        {
            started.TrySetResult();
            lines.TryComplete();
        }
    }

    private static Offset End(IConsumer<byte[]?, byte[]> consumer, TopicPartition partition)
    {
        try
        {
            return consumer.QueryWatermarkOffsets(partition, KafkaConnection.RequestTimeout).High;
        }
        catch (KafkaException)
        {
            return Offset.End;
        }
    }
}
