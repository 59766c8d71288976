using System.Diagnostics;
using Confluent.Kafka;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.IntegrationTests.Noc;
using Pipeline.IntegrationTests.Ops;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Kafka;

/// <summary>
/// Kafka's committed offsets of each sink's group, read as outside tools read them (the admin API), against
/// what the sink has written: they reach the end within two seconds of the last write when the stream goes
/// quiet, equal the sink's own store, and through a SIGKILL and a restart never go back nor run ahead of
/// what is written.
/// </summary>
public sealed class CommittedOffsetsTests(ITestOutputHelper output)
{
    private const int Partitions = 4;
    private const int Half = 2_000;

    /// <summary>The bound: Kafka's view trails the last write by at most this once the stream is quiet.</summary>
    private static readonly TimeSpan CommitDeadline = TimeSpan.FromSeconds(2);

    [KafkaTheory]
    [Trait("Category", TestCategories.ExternalKafka)]
    [InlineData("noc")]
    [InlineData("siem")]
    [InlineData("topk")]
    [InlineData("files")]
    public async Task AfterAQuietSpellKafkasCommittedOffsetsEqualTheEndAndTheSinksOwnAndThroughASigkillTheyNeverGoBackNorAhead(string worker)
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: Partitions);
        pipeline.Kafka.SetGroupInitialRebalanceDelay(TimeSpan.Zero);
        var bootstrap = pipeline.Kafka.BootstrapServers;
        var topic = "committed-" + Guid.NewGuid().ToString("N")[..8];
        pipeline.Kafka.CreateTopic(topic, Partitions);
        var group = worker + "-" + Guid.NewGuid().ToString("N")[..8];
        await using var sink = await SinkUnderTest.CreateAsync(worker, pipeline, group, topic, Partitions);
        var stream = new NocStream(2 * Half);

        var process = await sink.StartAsync();
        var watch = CommitWatch.Start(bootstrap, group, topic, Partitions, sink.StoredAsync);
        try
        {
            Produce(bootstrap, topic, stream, 0, Half);
            await CaughtUpAsync(bootstrap, topic, sink, group, "before the kill", process);

            // The second half arrives while the sink is killed mid-stream and started again at once.
            var producing = Task.Run(async () =>
            {
                for (var from = Half; from < 2 * Half; from += 100)
                {
                    Produce(bootstrap, topic, stream, from, 100);
                    await Task.Delay(20);
                }
            });
            await Eventually.Until(async () => (await sink.StoredAsync()).Values.Sum(), n => n >= Half + 300, TimeSpan.FromSeconds(60),
                "part of the second half written", TimeSpan.FromMilliseconds(20));
            var committedAtKill = await GroupOffsets.CommittedAsync(bootstrap, group, topic, Partitions);
            await process.KillAsync();
            process = await sink.StartAsync();
            await producing;
            await CaughtUpAsync(bootstrap, topic, sink, group, "after the restart", process);
            output.WriteLine($"committed at the kill: {Show(committedAtKill)}");
        }
        finally
        {
            await watch.StopAsync();
        }

        output.WriteLine($"{watch.Samples} samples of Kafka's committed offsets against the sink's positions, {watch.ReadFailures} unanswered");
        Assert.True(watch.Samples >= 20, $"only {watch.Samples} samples were taken");
        Assert.True(watch.Violations.Count == 0, string.Join("\n", watch.Violations.Take(20)));
        await process.StopAsync();
    }

    /// <summary>
    /// Waits until the sink has written every record produced, then gives Kafka's committed offsets
    /// <see cref="CommitDeadline"/> to equal the end offsets, and checks they equal the sink's own positions.
    /// </summary>
    private async Task CaughtUpAsync(string bootstrap, string topic, SinkUnderTest sink, string group, string when, PipelineProcess process)
    {
        var ends = TestEvents.Ends(bootstrap, topic, Partitions);
        try
        {
            await Eventually.Until(sink.StoredAsync, s => ends.All(e => s.GetValueOrDefault(e.Key) == e.Value), TimeSpan.FromSeconds(90),
                $"the sink wrote everything {when}", TimeSpan.FromMilliseconds(20));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + "\n" + process.Output, ex);
        }
        var written = Stopwatch.StartNew();
        var committed = await Eventually.Until(() => GroupOffsets.CommittedAsync(bootstrap, group, topic, Partitions), c => Same(c, ends), CommitDeadline,
            $"Kafka's committed offsets at the end offsets {when}", TimeSpan.FromMilliseconds(20));
        output.WriteLine($"{when}: everything written, Kafka's committed offsets at the end {written.Elapsed.TotalMilliseconds:F0} ms later: {Show(committed)}");
        Assert.Equal(ends, await sink.StoredAsync());
        Assert.Equal(ends, committed);
    }

    /// <summary>Events <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> - 1, event i to partition i mod 4: its offset is i / 4.</summary>
    private static void Produce(string bootstrap, string topic, NocStream stream, int from, int count) =>
        TestEvents.Produce(bootstrap, topic, Enumerable.Range(from, count).Select(stream.Event), e => NocStream.IndexOf(e.Id) % Partitions);

    private static bool Same(Dictionary<int, long> committed, Dictionary<int, long> ends) =>
        ends.All(e => committed.GetValueOrDefault(e.Key, e.Value == 0 ? 0 : -1) == e.Value);

    private static string Show(Dictionary<int, long> offsets) => string.Join(" ", offsets.OrderBy(o => o.Key).Select(o => $"{o.Key}@{o.Value}"));
}

/// <summary>
/// Samples a group's committed offsets through the admin API every 50 ms, then the sink's positions, and notes
/// every sample where Kafka went back on a partition or ran ahead of what the sink has written. Positions are
/// read after the committed offsets, and a sink's positions only grow, so committed ≤ positions must hold.
/// </summary>
internal sealed class CommitWatch
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public List<string> Violations { get; } = [];
    public int Samples { get; private set; }
    public int ReadFailures { get; private set; }

    public static CommitWatch Start(string bootstrap, string group, string topic, int partitions, Func<Task<Dictionary<int, long>>> positions)
    {
        var watch = new CommitWatch();
        watch._loop = Task.Run(() => watch.RunAsync(bootstrap, group, topic, partitions, positions));
        return watch;
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    private async Task RunAsync(string bootstrap, string group, string topic, int partitions, Func<Task<Dictionary<int, long>>> positions)
    {
        var highest = new Dictionary<int, long>();
        while (!_stop.IsCancellationRequested)
        {
            Dictionary<int, long> committed;
            try
            {
                committed = await GroupOffsets.CommittedAsync(bootstrap, group, topic, partitions);
            }
            catch (KafkaException)
            {
                ReadFailures++;
                continue;
            }
            var written = await positions();
            Samples++;
            foreach (var (partition, offset) in committed)
            {
                if (highest.TryGetValue(partition, out var before) && offset < before)
                    Violations.Add($"partition {partition}: Kafka's committed offset went back from {before} to {offset}");
                if (offset > written.GetValueOrDefault(partition))
                    Violations.Add($"partition {partition}: Kafka's committed offset {offset} is ahead of what is written ({written.GetValueOrDefault(partition)})");
                highest[partition] = Math.Max(offset, before);
            }
            try
            {
                await Task.Delay(50, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
