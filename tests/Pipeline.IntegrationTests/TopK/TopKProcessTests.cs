using System.Globalization;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.TopK;

/// <summary>
/// One embedded Kafka cluster with the stream produced once, and the answers of one uninterrupted
/// aggregator process over it: the reference the other runs are held to.
/// </summary>
public sealed class TopKReferenceRun : IAsyncLifetime
{
    internal PipelineUnderTest Pipeline { get; private set; } = null!;
    internal TopKStream Stream { get; } = new();
    internal string Topic { get; } = "topk-in-" + Guid.NewGuid().ToString("N")[..8];
    internal string PublishTopic { get; } = "topk-out-" + Guid.NewGuid().ToString("N")[..8];
    internal Dictionary<string, JsonObject> Answers { get; private set; } = null!;
    internal List<(string Key, string Value)> Published { get; } = [];
    internal Dictionary<string, (int Status, string Body)> Statuses { get; } = [];
    private TemporaryDatabase _db = null!;

    public async Task InitializeAsync()
    {
        // The chosen Kafka is not there: the tests report skipped, and nothing is started.
        if (KafkaBackend.Unavailable is not null) return;
        Pipeline = PipelineUnderTest.Start(brokers: 1, partitions: TopKStream.Partitions);
        Pipeline.Kafka.CreateTopic(Topic, TopKStream.Partitions);
        Pipeline.Kafka.CreateTopic(PublishTopic, 1);
        Stream.ProduceTo(Pipeline.Kafka.BootstrapServers, Topic);
        _db = await PostgresServer.Instance.CreateDatabaseAsync();
        var group = "topk-ref-" + Guid.NewGuid().ToString("N")[..8];
        var process = await Aggregators.StartAsync(Pipeline, _db, group, Topic, PublishTopic);
        await Aggregators.WaitDoneAsync(_db, group, process);
        Answers = await Aggregators.AnswersAsync(process, Stream);
        using var http = new HttpClient();
        var root = new Uri(process.HealthUrl!);
        foreach (var query in new[] { "/topk", "/topk?dimension=nope", "/topk?dimension=host&window=5m", "/topk?dimension=host&k=0",
            $"/topk?dimension=host&k={TopKStream.Capacity + 1}", "/topk?dimension=host&at=yesterday", "/topk/windows?dimension=host&window=1h" })
        {
            using var response = await http.GetAsync(new Uri(root, query));
            Statuses[query] = ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        ReadPublished();
        await process.StopAsync();
    }

    public async Task DisposeAsync()
    {
        if (Pipeline is not null) await Pipeline.DisposeAsync();
        if (_db is not null) await _db.DisposeAsync();
    }

    private void ReadPublished()
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Pipeline.Kafka.BootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(PublishTopic, 0, Offset.Beginning));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result is null) continue;
            if (result.IsPartitionEOF) return;
            Published.Add((result.Message.Key, result.Message.Value));
        }
        throw new TimeoutException("the topk topic was not read to its end");
    }
}

/// <summary>
/// The aggregator run as its own process, as in production, against the embedded Kafka cluster and a real
/// PostgreSQL: a crash mid-stream, a second member in the group, sampling and publishing, each held to the
/// answers of one uninterrupted run over the same stream.
/// </summary>
public sealed class TopKProcessTests(TopKReferenceRun reference, ITestOutputHelper output) : IClassFixture<TopKReferenceRun>
{
    [KafkaFact]
    public async Task SigkillMidStreamAndRestartGiveTheSameFinalWindowCountsAsAnUninterruptedRun()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var group = "topk-kill-" + Guid.NewGuid().ToString("N")[..8];
        // Small batches: many checkpoints, so the kill lands between and inside them, not after the last.
        var first = await Aggregators.StartAsync(reference.Pipeline, db, group, reference.Topic, reference.PublishTopic + "-kill", batchSize: 500);
        await Eventually.Until(() => Aggregators.CheckpointedAsync(db, group), n => n >= TopKStream.Events / 5, Aggregators.Done,
            "a fifth of the stream checkpointed", every: TimeSpan.FromMilliseconds(10));
        await first.KillAsync();
        var atKill = await Aggregators.CheckpointedAsync(db, group);
        output.WriteLine($"SIGKILL with {atKill:N0} of {TopKStream.Events:N0} records checkpointed");
        Assert.True(atKill < TopKStream.Events, $"the stream was done before the kill ({atKill}); nothing was interrupted");

        var second = await Aggregators.StartAsync(reference.Pipeline, db, group, reference.Topic, reference.PublishTopic + "-kill", batchSize: 500);
        await Aggregators.WaitDoneAsync(db, group, second);
        var answers = await Aggregators.AnswersAsync(second, reference.Stream);

        Assert.Equal(Aggregators.Text(reference.Answers), Aggregators.Text(answers));
    }

    [KafkaFact]
    public async Task TwoAggregatorProcessesInOneGroupGiveTheSameAnswersAsOne()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var group = "topk-two-" + Guid.NewGuid().ToString("N")[..8];
        var topic = "topk-two-" + Guid.NewGuid().ToString("N")[..8];
        reference.Pipeline.Kafka.CreateTopic(topic, TopKStream.Partitions);
        // Both members hold their partitions before the stream is produced: a partition that gets no record within the
        // idle timeout of its assignment closes the stream's windows (all in the past) and counts their records late.
        // Producing and fetching on a machine busy with other tests once took longer than 10 s; 30 s keeps that out
        // of reach (the last windows close 30 s after the last record instead of 10).
        var idle = TimeSpan.FromSeconds(30);
        var a = await Aggregators.StartAsync(reference.Pipeline, db, group, topic, reference.PublishTopic + "-two", waitHealthy: false, idle: idle);
        var b = await Aggregators.StartAsync(reference.Pipeline, db, group, topic, reference.PublishTopic + "-two", waitHealthy: false, idle: idle);
        await a.WaitHealthyAsync();
        await b.WaitHealthyAsync();
        // Both members hold partitions before any record exists: the stream is split between them from the start.
        await Eventually.True(() => a.Output.Contains("Top-k state loaded", StringComparison.Ordinal) && b.Output.Contains("Top-k state loaded", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), "both members assigned");
        reference.Stream.ProduceTo(reference.Pipeline.Kafka.BootstrapServers, topic);

        await Aggregators.WaitDoneAsync(db, group, a, b);
        var fromA = await Aggregators.AnswersAsync(a, reference.Stream);
        var fromB = await Aggregators.AnswersAsync(b, reference.Stream);

        Assert.True(await AppliedAsync(a) > 0 && await AppliedAsync(b) > 0, "one member read the whole stream alone");
        Assert.Equal(TopKStream.Events, await AppliedAsync(a) + await AppliedAsync(b));
        Assert.Equal(Aggregators.Text(reference.Answers), Aggregators.Text(fromA));
        Assert.Equal(Aggregators.Text(fromA), Aggregators.Text(fromB));
    }

    [KafkaFact]
    public void SampledEventsAreReweightedBySampleRateInEveryWindow()
    {
        var stream = reference.Stream;
        foreach (var (_, _, label) in stream.Windows)
        {
            foreach (var dimension in new[] { "app", "severity", "tenant" })
            {
                // Few keys: the sketches hold all of them, so the counts are exact and must equal the weighted truth.
                var top = reference.Answers[$"{label}/{dimension}"]["top"]!.AsArray();
                var expected = stream.Exact.Where(x => x.Key.Window == label && x.Key.Dimension == dimension)
                    .ToDictionary(x => x.Key.Key, x => x.Value);
                Assert.Equal(expected.OrderBy(x => x.Key, StringComparer.Ordinal),
                    top.Select(e => new KeyValuePair<string, long>((string)e!["key"]!, (long)e["count"]!)).OrderBy(x => x.Key, StringComparer.Ordinal));
                Assert.All(top, e => Assert.Equal(0L, (long)e!["error"]!));
            }
            foreach (var dimension in new[] { "host", "source_ip" })
            {
                // Many keys: every reported count bounds the weighted truth.
                foreach (var e in reference.Answers[$"{label}/{dimension}"]["top"]!.AsArray())
                {
                    var truth = stream.Exact.GetValueOrDefault((label, dimension, (string)e!["key"]!));
                    Assert.InRange(truth, (long)e["lower_bound"]!, (long)e["count"]!);
                }
            }
            var answer = reference.Answers[$"{label}/host"];
            Assert.Equal(stream.Exact[(label, "*", "*")], (long)answer["events"]!);
            Assert.Equal("closed", (string)answer["state"]!);
            Assert.Equal(0L, (long)answer["late"]!);
        }
        var allWeight = stream.Exact[("1h", "*", "*")];
        // One event in five stands for four.
        Assert.Equal(TopKStream.Events / 5 * 4 + TopKStream.Events * 4 / 5, allWeight);
    }

    [KafkaFact]
    public void EveryClosedWindowIsPublishedToTheTopkTopicAsTheQueryAnswersIt()
    {
        var latest = reference.Published.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => JsonNode.Parse(g.Last().Value)!.AsObject());
        foreach (var (size, at, label) in reference.Stream.Windows)
            foreach (var dimension in TopKStream.Dimensions)
            {
                var start = DateTimeOffset.Parse((string)reference.Answers[$"{label}/{dimension}"]["window_start"]!, CultureInfo.InvariantCulture);
                var key = $"{size}/{dimension}/{start.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";
                Assert.True(latest.TryGetValue(key, out var message), $"nothing published under {key}");
                message!.Remove("group");
                Assert.Equal(reference.Answers[$"{label}/{dimension}"].ToJsonString(), message.ToJsonString());
            }
    }

    [KafkaFact]
    public void TheQueryRefusesWhatItCannotAnswerAndListsStoredWindows()
    {
        foreach (var (query, (status, body)) in reference.Statuses.Where(s => s.Key.StartsWith("/topk?", StringComparison.Ordinal) || s.Key == "/topk"))
        {
            Assert.True(status == 400, $"{query} answered {status}: {body}");
            Assert.Contains("\"error\"", body, StringComparison.Ordinal);
        }
        var (listStatus, list) = reference.Statuses["/topk/windows?dimension=host&window=1h"];
        Assert.Equal(200, listStatus);
        var starts = JsonNode.Parse(list)!["window_starts"]!.AsArray();
        Assert.Equal(reference.Stream.Start.AddMinutes(-10), DateTimeOffset.Parse((string)starts.Single()!, CultureInfo.InvariantCulture));
    }

    private static async Task<long> AppliedAsync(PipelineProcess process)
    {
        var metrics = await process.GetAsync("/metrics");
        var line = metrics.Split('\n').Single(l => l.StartsWith("topk_records_total{", StringComparison.Ordinal) && l.Contains("outcome=\"applied\"", StringComparison.Ordinal));
        return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
