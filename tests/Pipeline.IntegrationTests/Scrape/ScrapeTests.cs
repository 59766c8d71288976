using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.IntegrationTests.Noc;

namespace Pipeline.IntegrationTests.Scrape;

/// <summary>
/// The edge's scrape source against real exporters — Debian's prometheus-node-exporter and the pipeline's own
/// /metrics endpoints — and against targets that hang, send garbage, flood or are down: samples arrive in
/// Kafka and in the NOC's metrics table with their names, labels and values; failures are counted and cost
/// only their own target.
/// </summary>
public sealed class ScrapeTests
{
    private static IEnumerable<string> Target(int index, string url, string job, string interval = "00:00:01", string? timeout = null)
    {
        yield return $"--Edge:Scrape:Targets:{index}:Url={url}";
        yield return $"--Edge:Scrape:Targets:{index}:Job={job}";
        yield return $"--Edge:Scrape:Targets:{index}:Interval={interval}";
        if (timeout is not null) yield return $"--Edge:Scrape:Targets:{index}:Timeout={timeout}";
    }

    private static TelemetryEvent Decode(ConsumeResult<byte[]?, byte[]> record) => EnvelopeCodec.Decode(record.Message.Value);

    private static bool Is(TelemetryEvent e, string name, string job) => e.Metric?.Name == name && e.Metric.Labels?.GetValueOrDefault("job") == job;

    /// <summary>MemTotal of /proc/meminfo in bytes: what node_memory_MemTotal_bytes must say.</summary>
    private static double MemTotalBytes()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    [Fact]
    public async Task NodeExporterAndThePipelinesOwnMetricsArriveInKafkaAndInTheMetricsTableWithTheirNamesLabelsAndValues()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 3);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        await using var node = await NodeExporter.StartAsync();
        var group = "noc-" + Guid.NewGuid().ToString("N")[..8];
        var noc = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, "metrics");
        var nocMetrics = new Uri(new Uri(noc.HealthUrl!), "/metrics").AbsoluteUri;
        var topk = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.TopK",
        [
            "--topics", "metrics", "--group", "topk-" + Guid.NewGuid().ToString("N")[..8], "--postgres", db.ConnectionString, "--publish-topic", "",
            "--dimensions", "metric,metric.edge_events_received_total", "--batch-wait", "00:00:00.500", "--idle", "00:00:04",
        ]);
        var httpPort = FreePort.Next();
        var edge = await pipeline.StartEdgeAsync(
            [.. Target(0, node.Url, "node"), .. Target(1, $"http://127.0.0.1:{httpPort}/metrics", "edge"), .. Target(2, nocMetrics, "noc"),
             "--Edge:Name=edge-under-test"], httpPort: httpPort);
        var memTotal = MemTotalBytes();
        var uname = (await node.ScrapeAsync()).LabelSets("node_uname_info").Single();

        var records = TopicReader.ReadUntil(pipeline.Kafka.BootstrapServers, "metrics", seen =>
        {
            var events = seen.Select(Decode).ToList();
            return events.Any(e => Is(e, "node_memory_MemTotal_bytes", "node"))
                && events.Any(e => Is(e, "node_cpu_seconds_total", "node") && e.Metric!.Delta is not null)
                && events.Any(e => Is(e, "edge_scrape_targets", "edge"))
                && events.Any(e => Is(e, "consumer_partitions_assigned", "noc") && e.Metric!.Value == 3)
                && new[] { "node", "edge", "noc" }.All(job => events.Any(e => Is(e, "up", job) && e.Metric!.Value == 1));
        }, TimeSpan.FromSeconds(90), "samples of every target");
        var all = records.Select(r => (Record: r, Event: Decode(r))).ToList();

        var memory = all.First(x => Is(x.Event, "node_memory_MemTotal_bytes", "node"));
        Assert.Equal(memTotal, memory.Event.Metric!.Value);
        Assert.Equal(("metric", "scrape", "edge-under-test", "gauge"), (memory.Event.Kind, memory.Event.Source.Transport, memory.Event.Source.Edge, memory.Event.Metric.Type));
        Assert.Equal(new Dictionary<string, string> { ["instance"] = node.Instance, ["job"] = "node" }, memory.Event.Metric.Labels);
        Assert.Equal($"{node.Instance} node_memory_MemTotal_bytes", Encoding.UTF8.GetString(memory.Record.Message.Key!));

        var info = all.First(x => Is(x.Event, "node_uname_info", "node")).Event.Metric!;
        Assert.Equal(1, info.Value);
        foreach (var (name, value) in uname) Assert.Equal(value, info.Labels![name]);

        var cpu = all.Where(x => Is(x.Event, "node_cpu_seconds_total", "node")).Select(x => x.Event.Metric!).ToList();
        Assert.All(cpu, c => Assert.Equal("counter", c.Type));
        Assert.All(cpu.Where(c => c.Delta is not null), c => Assert.True(c.Delta >= 0));
        // Every series of one target is keyed alike, so it stays in order on one partition.
        Assert.All(all.Where(x => Is(x.Event, "node_cpu_seconds_total", "node") && x.Event.Metric!.Labels!["cpu"] == "0" && x.Event.Metric.Labels["mode"] == "idle"),
            x => Assert.Equal($"{node.Instance} node_cpu_seconds_total{{cpu=\"0\",mode=\"idle\"}}", Encoding.UTF8.GetString(x.Record.Message.Key!)));

        Assert.All(all.Where(x => Is(x.Event, "edge_scrape_targets", "edge") && x.Event.Metric!.Labels!["source"] == "static"), x => Assert.Equal(3, x.Event.Metric!.Value));
        var assigned = all.Last(x => Is(x.Event, "consumer_partitions_assigned", "noc")).Event.Metric!;
        Assert.Equal(group, assigned.Labels!["group"]);

        // The NOC sink keeps every metric event in its metrics table, not in events.
        await Eventually.Until(() => db.ScalarAsync<long>("""
            select count(*) from metrics where name = 'node_memory_MemTotal_bytes' and labels @> jsonb_build_object('job', 'node', 'instance', @instance::text)
              and value = @memTotal and type = 'gauge' and time = received_at
            """, new { instance = node.Instance, memTotal }), n => n > 0, TimeSpan.FromSeconds(60), "node memory in the metrics table");
        await Eventually.Until(() => db.ScalarAsync<long>("select count(distinct labels->>'job') from metrics where name = 'up' and value = 1"),
            n => n == 3, TimeSpan.FromSeconds(60), "up = 1 of all three targets in the metrics table");
        Assert.Equal(group, await db.ScalarAsync<string>("select labels->>'group' from metrics where name = 'consumer_partitions_assigned' and labels->>'job' = 'noc' limit 1"));
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from events"));

        // Top-k ranks the series of one counter by their increase: the edge's busiest ledger cell is the scrape listener's.
        var busiest = await Eventually.Until(async () => System.Text.Json.JsonDocument.Parse(await topk.GetAsync("/topk?dimension=metric.edge_events_received_total&window=1m&k=3")).RootElement.Clone(),
            answer => answer.GetProperty("top").GetArrayLength() > 0, TimeSpan.FromSeconds(60), "the busiest ledger cell in top-k");
        var first = busiest.GetProperty("top")[0];
        Assert.Contains("listener=\"scrape\"", first.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.True(first.GetProperty("count").GetInt64() > 0);
        var byName = System.Text.Json.JsonDocument.Parse(await topk.GetAsync("/topk?dimension=metric&window=1m&k=100")).RootElement;
        Assert.Contains(byName.GetProperty("top").EnumerateArray(), e => e.GetProperty("key").GetString() == "node_cpu_seconds_total");

        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        var (received, accounted) = metrics.Ledger("scrape", "default-metrics");
        Assert.True(received > 0);
        Assert.Equal(received, accounted);
        Assert.Equal(1, metrics.Sum("edge_scrape_up", ("job", "node"), ("instance", node.Instance)));
        Assert.True(metrics.Sum("edge_scrape_samples", ("job", "node")) > 50);
    }

    [Fact]
    public async Task AHangingAGarbageAFloodingAndADownTargetAreEachCountedAndDoNotDelayTheOthers()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 3);
        await using var node = await NodeExporter.StartAsync();
        await using var hanging = new StubExporter(StubBehaviour.Hang);
        await using var garbage = new StubExporter(StubBehaviour.Garbage);
        await using var huge = new StubExporter(StubBehaviour.Huge);
        var down = $"127.0.0.1:{FreePort.Next()}";
        var edge = await pipeline.StartEdgeAsync(
        [
            .. Target(0, node.Url, "node", "00:00:00.500"),
            .. Target(1, hanging.Url, "hanging", "00:00:04", "00:00:03"),
            .. Target(2, garbage.Url, "garbage"),
            .. Target(3, huge.Url, "huge"),
            .. Target(4, $"http://{down}/metrics", "down"),
            "--Edge:Scrape:MaxBodyBytes=1048576",
        ]);

        double Errors(MetricsText m, string job, string reason) => m.Sum("edge_scrape_errors_total", ("job", job), ("reason", reason));
        var atStart = await MetricsText.ScrapeAsync(edge.Process);
        var metrics = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m =>
            Errors(m, "hanging", "timeout") >= 2 && Errors(m, "garbage", "parse") >= 2 && Errors(m, "huge", "too_large") >= 2
            && Errors(m, "down", "connection") >= 2, TimeSpan.FromSeconds(60), "every bad target failing for its reason", TimeSpan.FromMilliseconds(500));

        // Two timeouts of the hanging target took at least 6 s: the node exporter, every 0.5 s, went on meanwhile.
        var nodeScrapes = metrics.Sum("edge_scrape_scrapes_total", ("job", "node")) - atStart.Sum("edge_scrape_scrapes_total", ("job", "node"));
        Assert.True(nodeScrapes >= 6, $"{nodeScrapes} scrapes of the healthy target while the hanging one timed out twice");
        Assert.Equal(0, metrics.Sum("edge_scrape_errors_total", ("job", "node")));
        Assert.Equal(1, metrics.Sum("edge_scrape_up", ("job", "node")));
        Assert.True(metrics.Sum("edge_scrape_duration_seconds", ("job", "node")) < 3, "a healthy scrape never waits for the hanging one");
        foreach (var job in new[] { "hanging", "garbage", "huge", "down" })
        {
            Assert.Equal(0, metrics.Sum("edge_scrape_up", ("job", job)));
            Assert.Equal(0, metrics.Sum("edge_scrape_samples_total", ("job", job)));
        }
        // The flood was cut off near the limit at each scrape, never read to its 500 MB.
        var hugeScrapes = metrics.Sum("edge_scrape_scrapes_total", ("job", "huge"));
        Assert.True(metrics.Sum("edge_scrape_bytes_total", ("job", "huge")) <= hugeScrapes * (2 << 20), "at most twice the limit read per scrape");
        Assert.True(huge.BytesSent < (hugeScrapes + 2) * (16L << 20), $"{huge.BytesSent} bytes sent by the flooding target in {hugeScrapes} scrapes");

        // Failures are visible downstream too: up = 0 for each bad target, and nothing of the garbage is published.
        var records = TopicReader.ReadUntil(pipeline.Kafka.BootstrapServers, "metrics",
            seen => new[] { "hanging", "garbage", "huge", "down" }.All(job => seen.Select(Decode).Any(e => Is(e, "up", job) && e.Metric!.Value == 0)),
            TimeSpan.FromSeconds(60), "up = 0 of every bad target");
        var events = records.Select(Decode).ToList();
        Assert.DoesNotContain(events, e => e.Metric!.Name == "runaway_series");
        Assert.All(events.Where(e => e.Metric!.Labels!["job"] is "hanging" or "garbage" or "huge" or "down"),
            e => Assert.Contains(e.Metric!.Name, (string[])["up", "scrape_duration_seconds", "scrape_samples_scraped"]));
        var (received, accounted) = (await MetricsText.ScrapeAsync(edge.Process)).Ledger("scrape", "default-metrics");
        Assert.Equal(received, accounted);
    }

    [Fact]
    public async Task TargetsWrittenToAWatchedFileAreScrapedWithoutARestartAndRemovedOnesStop()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 3);
        await using var node = await NodeExporter.StartAsync();
        var directory = Directory.CreateTempSubdirectory("scrape-files-");
        try
        {
            var file = Path.Combine(directory.FullName, "targets.yml");
            await File.WriteAllTextAsync(file, "[]\n");
            var edge = await pipeline.StartEdgeAsync([
                $"--Edge:Scrape:Files:0:Path={Path.Combine(directory.FullName, "*.yml")}", "--Edge:Scrape:Files:0:Job=discovered",
                "--Edge:Scrape:Interval=00:00:01", "--Edge:Scrape:Timeout=00:00:01"]);
            var empty = await MetricsText.ScrapeAsync(edge.Process);
            Assert.Equal(0, empty.Sum("edge_scrape_targets", ("source", "file")));

            // The way operators add one: write the file next to it, then move it into place.
            var staged = Path.Combine(directory.FullName, "targets.tmp");
            await File.WriteAllTextAsync(staged, $"- targets: ['{node.Instance}']\n  labels:\n    rack: r7\n");
            File.Move(staged, file, overwrite: true);
            await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m => m.Sum("edge_scrape_up", ("job", "discovered"), ("instance", node.Instance)) == 1,
                TimeSpan.FromSeconds(30), "the discovered target scraped");
            var sample = TopicReader.ReadUntil(pipeline.Kafka.BootstrapServers, "metrics",
                seen => seen.Select(Decode).Any(e => Is(e, "node_load1", "discovered")), TimeSpan.FromSeconds(30), "a sample of the discovered target")
                .Select(Decode).First(e => Is(e, "node_load1", "discovered"));
            Assert.Equal(("r7", node.Instance), (sample.Metric!.Labels!["rack"], sample.Metric.Labels["instance"]));

            await File.WriteAllTextAsync(file, "[]\n");
            var after = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m => m.Sum("edge_scrape_targets", ("source", "file")) == 0,
                TimeSpan.FromSeconds(30), "the removed target stopped");
            Assert.Empty(after.LabelSets("edge_scrape_up"));
            // The log line is written once the target's series are gone, and read from the process a moment later.
            await Eventually.True(() => edge.Process.Output.Contains("Scraping 0 targets (0 added, 1 removed)", StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), "the edge's log says the target was removed");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
