using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Kafka;
using Pipeline.Kafka.Producing;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// Publishes closed windows to the <c>topk</c> topic: one message per window and dimension, keyed
/// <c>&lt;window&gt;/&lt;dimension&gt;/&lt;start&gt;</c>, valued as <c>GET /topk</c> answers (the merge of every partial closed
/// so far). A later close of more partitions of the same window publishes again under the same key, so a
/// compacted topic keeps the most complete answer. At least once: a message is marked sent in the store
/// only after Kafka acknowledged it; the producer is idempotent, so retries within a session do not repeat.
/// </summary>
internal sealed class TopKPublisher : IDisposable
{
    private readonly StoredWindows _store;
    private readonly TopKOptions _options;
    private readonly TopKMetrics _metrics;
    private readonly IProducer<byte[]?, byte[]>? _producer;
    private readonly Dictionary<int, Granularity> _granularities;

    public TopKPublisher(StoredWindows store, TopKOptions options, KafkaOptions kafka, TopKMetrics metrics, ILogger<TopKPublisher> log)
    {
        _store = store;
        _options = options;
        _metrics = metrics;
        _granularities = options.Granularities.ToDictionary(g => g.Seconds);
        if (options.PublishTopic.Length == 0) return;
        var config = ProducerFactory.Config(kafka, new ProducerSettings { MessageTimeoutMs = 30_000, LingerMs = 20 }, "topk-" + store.Group);
        _producer = ProducerFactory.Build(config, (_, e) => TopKLog.ProducerError(log, options.PublishTopic, e.Reason));
    }

    public bool Enabled => _producer is not null;

    /// <summary>
    /// Publishes every pending window, in rounds of 100 sent at once; returns how many were published.
    /// Throws when a round delivered nothing (Kafka unreachable): the caller retries later.
    /// </summary>
    public async Task<int> PublishPendingAsync(CancellationToken cancellationToken)
    {
        if (_producer is null) return 0;
        var published = 0;
        while (true)
        {
            var failed = 0;
            var round = await _store.PublishPendingAsync(100, async windows =>
            {
                var sends = windows.Select(w => (w.Window, Task: SendAsync(w.Window, w.Parts, w.Late, cancellationToken))).ToList();
                try
                {
                    await Task.WhenAll(sends.Select(s => s.Task));
                }
                catch (Exception)
                {
                    // Looked at one by one below: what was delivered is marked, the rest stays pending.
                }
                failed = sends.Count(s => !s.Task.IsCompletedSuccessfully);
                return sends.Where(s => s.Task.IsCompletedSuccessfully).Select(s => s.Window).ToList();
            }, cancellationToken);
            published += round;
            _metrics.Published.Inc(round);
            _metrics.PublishFailures.Inc(failed);
            if (failed > 0 && round == 0) throw new InvalidOperationException($"{failed} window results could not be published to {_options.PublishTopic}");
            if (round + failed < 100 || failed > 0) return published;
        }
    }

    private async Task SendAsync(PendingWindow window, IReadOnlyList<StoredWindowPart> parts, long late, CancellationToken cancellationToken)
    {
        // A window of a size no longer configured is still published, with a size read from the store.
        var granularity = _granularities.TryGetValue(window.GranularitySeconds, out var g) ? g : new Granularity(TimeSpan.FromSeconds(window.GranularitySeconds));
        var result = TopKResult.Build(_store.Group, window.Dimension, granularity, window.WindowStart, parts, late, _options.PublishTop);
        var key = Encoding.UTF8.GetBytes($"{granularity.Label}/{window.Dimension}/{window.WindowStart.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}");
        var value = JsonSerializer.SerializeToUtf8Bytes(result, TopKJson.Default.TopKResult);
        await _producer!.ProduceAsync(_options.PublishTopic, new Message<byte[]?, byte[]> { Key = key, Value = value }, cancellationToken);
    }

    public void Dispose()
    {
        if (_producer is null) return;
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
