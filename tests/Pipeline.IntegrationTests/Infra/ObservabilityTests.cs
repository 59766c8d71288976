using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Infra;

/// <summary>
/// The shipped observability (infra/observability: scrape configuration, alert rules, Grafana dashboard) against
/// the real thing: a Prometheus server scraping a running pipeline, and promtool.
/// </summary>
public sealed partial class ObservabilityTests
{
    private static readonly string Observability = Repository.Path_("infra", "observability");
    private static readonly string Rules = Path.Combine(Observability, "rules", "pipeline-alerts.yml");

    [Fact]
    public async Task PromtoolAcceptsTheScrapeConfigurationAndTheRulesAndEveryAlertPassesItsUnitTests()
    {
        var config = await Peers.RunAsync("promtool", ["check", "config", Path.Combine(Observability, "prometheus.yml")]);
        Assert.Contains("SUCCESS", config, StringComparison.Ordinal);
        var rules = await Peers.RunAsync("promtool", ["check", "rules", Rules]);
        Assert.Contains("SUCCESS: 12 rules found", rules, StringComparison.Ordinal);
        var tests = await Peers.RunAsync("promtool", ["test", "rules", Path.Combine(Observability, "rules", "pipeline-alerts.test.yml")]);
        Assert.Contains("SUCCESS", tests, StringComparison.Ordinal);

        // Every alert has a unit test that shows it firing (promtool only runs what is written).
        var alerts = AlertName().Matches(await File.ReadAllTextAsync(Rules)).Select(m => m.Groups[1].Value).ToList();
        var tested = await File.ReadAllTextAsync(Path.Combine(Observability, "rules", "pipeline-alerts.test.yml"));
        Assert.Equal(12, alerts.Count);
        Assert.All(alerts, a => Assert.Matches($@"alertname: {a}\s+exp_alerts:\s+- exp_labels", tested));
    }

    [Fact]
    public async Task ARealPrometheusScrapesEveryProcessAndTheLedgerFreshnessRulesAndEveryDashboardQueryAnswer()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 3);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var archive = SiemArchive.NewTemporary();
        var edge = await pipeline.StartEdgeAsync();
        var fast = new[] { "--batch-size", "500", "--batch-wait", "00:00:00.200" };
        var noc = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Postgres", ["--postgres", db.ConnectionString, .. fast]);
        var siem = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Siem", ["--archive", archive.Directory, .. fast]);
        var topk = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.TopK", ["--postgres", db.ConnectionString, .. fast]);
        // The job names of the shipped configuration, so that the shipped rules (up{job=~"pipeline-.*"}) apply.
        var jobs = new Dictionary<string, int>
        {
            ["pipeline-edge"] = edge.HttpPort,
            ["pipeline-noc"] = Port(noc),
            ["pipeline-siem"] = Port(siem),
            ["pipeline-topk"] = Port(topk),
        };
        var shipped = JobName().Matches(await File.ReadAllTextAsync(Path.Combine(Observability, "prometheus.yml"))).Select(m => m.Groups[1].Value).ToList();
        Assert.All(jobs.Keys, job => Assert.Contains(job, shipped));
        await using var prometheus = await PrometheusServer.StartAsync(jobs, [Rules]);

        try
        {
            // Prometheus applies discovered targets a few seconds after it starts: scrape before sending, so the
            // counters are seen rising (rate() needs that).
            await Eventually.Until(() => prometheus.QueryAsync("count_over_time(up{job=~\"pipeline-.*\"}[1m]) >= 2"), r => r.Count == 4,
                TimeSpan.FromSeconds(60), "4 targets scraped twice");

            // Syslog over TCP, stamped now (so the event's own time is fresh too), and JSON events over HTTP.
            const int lines = 3000;
            var sent = await SyslogSender.SendTcpAsync(edge.SyslogPort, lines, 600,
                n => $"<134>1 {DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} host-{n % 20} app-{n % 3} - - - observed {n}");
            var accepted = await HttpSender.SendAsync(edge.HttpUrl, 200, 1000);
            var events = sent + accepted.Count;

            // Every group has written every event (freshness is counted per record).
            await Eventually.Until(() => prometheus.QueryAsync("sum by (group) (consumer_freshness_seconds_count)"),
                r => r.Count == 3 && r.All(s => s.Value >= events), TimeSpan.FromMinutes(2), $"{events} records fresh in 3 groups");

            // The ledger: all received, all published, and balanced. The edge's last scrape may be older than the
            // workers' (each target is scraped on its own schedule): its figures are awaited, and balance in every scrape.
            await Eventually.Until(() => prometheus.QueryAsync("sum(edge_events_received_total)"), r => r.Count == 1 && r[0].Value == events, TimeSpan.FromSeconds(30), "all received");
            var ledger = await prometheus.QueryAsync(
                "sum(edge_events_received_total) + sum(edge_events_recovered_total) - sum(edge_events_published_total) - sum(edge_events_pending) - sum(edge_events_dropped_total)");
            Assert.Equal(0, Assert.Single(ledger).Value);
            await Eventually.Until(() => prometheus.QueryAsync("sum(edge_events_published_total)"), r => r.Count == 1 && r[0].Value == events, TimeSpan.FromSeconds(30), "all published");

            // The freshness histogram per group, as an alert or a dashboard reads it.
            // (rate needs two scrapes of a series: a group whose first write came late has them a second later.)
            var p99 = await Eventually.Until(() => prometheus.QueryAsync("histogram_quantile(0.99, sum by (group, le) (rate(consumer_freshness_seconds_bucket[1m])))"),
                r => r.Count == 3, TimeSpan.FromSeconds(30), "freshness p99 of 3 groups");
            Assert.Equal(["noc_team", "sec_team", "topk"], p99.Select(s => s.Labels["group"]).Order(StringComparer.Ordinal));
            Assert.All(p99, s => Assert.InRange(s.Value, 0, 3600));

            // /metrics of every process exposes its histograms.
            Assert.Single(await prometheus.QueryAsync("count(edge_receive_to_ack_seconds_bucket{job=\"pipeline-edge\"})"));
            Assert.Single(await prometheus.QueryAsync("count(http_server_request_duration_seconds_bucket{job=\"pipeline-edge\",http_route=\"/v1/events\"})"));
            foreach (var job in jobs.Keys.Where(j => j != "pipeline-edge"))
            {
                foreach (var histogram in new[] { "consumer_freshness_seconds", "consumer_write_duration_seconds", "consumer_write_batch_records" })
                    Assert.Single(await prometheus.QueryAsync($"count({histogram}_bucket{{job=\"{job}\"}})"));
            }
            // The event's own time is read by the sinks that parse it (NOC, SIEM).
            Assert.Equal(2, (await prometheus.QueryAsync("sum by (group) (consumer_event_age_seconds_count)")).Count);

            // Every alert rule is evaluated without error against the live series.
            using var rules = await prometheus.GetAsync("/api/v1/rules");
            var evaluated = rules.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
                .SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
            Assert.Equal(12, evaluated.Count);
            await Eventually.True(async () =>
            {
                using var again = await prometheus.GetAsync("/api/v1/rules");
                return again.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
                    .SelectMany(g => g.GetProperty("rules").EnumerateArray())
                    .All(r => r.GetProperty("health").GetString() == "ok" && r.GetProperty("lastEvaluation").GetString()!.StartsWith("20", StringComparison.Ordinal));
            }, TimeSpan.FromSeconds(30), "every rule evaluated with health ok");
            // A healthy pipeline raises none of the alerts that need no time to fire.
            Assert.Empty(await prometheus.QueryAsync("ALERTS{alertname=~\"PipelineLedgerOutOfBalance|PipelineDeadLetterGrowth\"}"));

            // Every query of the dashboard answers with series from this pipeline.
            var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Observability, "grafana", "dashboards", "pipeline.json")));
            var queries = dashboard.RootElement.GetProperty("panels").EnumerateArray()
                .Where(p => p.TryGetProperty("targets", out _))
                .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (Panel: p.GetProperty("title").GetString()!, Expr: t.GetProperty("expr").GetString()!)))
                .ToList();
            Assert.True(queries.Count >= 20, $"{queries.Count} queries");
            var empty = queries.Select(q => (q.Panel, PromQL: q.Expr.Replace("$__rate_interval", "1m", StringComparison.Ordinal).Replace("$group", ".*", StringComparison.Ordinal))).ToList();
            // Prometheus refusing a query throws; an answer with no series is a panel that would show nothing. A rate
            // needs two scrapes after a series first moves (the HTTP requests may have come a moment ago): the panels
            // still empty are asked again until a deadline.
            var deadline = Stopwatch.StartNew();
            do
            {
                var still = new List<(string Panel, string PromQL)>();
                foreach (var query in empty)
                    if ((await prometheus.QueryAsync(query.PromQL)).Count == 0) still.Add(query);
                empty = still;
                if (empty.Count > 0) await Task.Delay(TimeSpan.FromSeconds(1));
            } while (empty.Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(30));
            Assert.True(empty.Count == 0, "panels with no data:\n" + string.Join('\n', empty.Select(q => $"{q.Panel}: {q.PromQL}")));
            // The dashboard's group variable lists the three groups.
            using var groups = await prometheus.GetAsync("/api/v1/label/group/values?match[]=consumer_records_total");
            Assert.Equal(["noc_team", "sec_team", "topk"], groups.RootElement.GetProperty("data").EnumerateArray().Select(g => g.GetString()!).Order(StringComparer.Ordinal));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"{ex.Message}\n--- prometheus:\n{prometheus.Output}", ex);
        }
        finally
        {
            if (Directory.Exists(archive.Directory)) Directory.Delete(archive.Directory, recursive: true);
        }
    }

    [Fact]
    public async Task MetricsArePushedOverOtlpWhenAnEndpointIsConfigured()
    {
        // An OTLP/HTTP receiver (as an OpenTelemetry Collector is): every POST /v1/metrics is kept.
        var port = FreePort.Next();
        using var receiver = new System.Net.HttpListener();
        receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
        receiver.Start();
        var bodies = new System.Collections.Concurrent.ConcurrentQueue<(string Path, string? ContentType, byte[] Body)>();
        using var stop = new CancellationTokenSource();
        var receiving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await receiver.GetContextAsync().WaitAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                bodies.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var edge = await pipeline.StartEdgeAsync(["--Metrics:OtlpEndpoint=http://127.0.0.1:" + port, "--Metrics:OtlpInterval=00:00:01"]);
        await SyslogSender.SendTcpAsync(edge.SyslogPort, 10, 0, n => SyslogSender.Line("otlp", n));

        // Protobuf carries names as plain UTF-8: the ledger's and the histograms' names are in the pushed payloads.
        await Eventually.True(() =>
        {
            var pushed = bodies.ToArray();
            return pushed.Any(b => b.Path == "/v1/metrics" && b.ContentType == "application/x-protobuf"
                && Contains(b.Body, "edge_events_received_total") && Contains(b.Body, "edge_receive_to_ack_seconds") && Contains(b.Body, "Pipeline.Edge"));
        }, TimeSpan.FromSeconds(30), "the edge's metrics pushed over OTLP");
        await stop.CancelAsync();
        await receiving;
    }

    [Fact]
    public async Task ABadOtlpEndpointIsAConfigurationErrorNamingTheSetting()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var process = PipelineProcess.Start("producer/Pipeline.Edge", ["--kafka", pipeline.Kafka.BootstrapServers, "--http", $"127.0.0.1:{FreePort.Next()}",
            "--syslog-tcp", $"127.0.0.1:{FreePort.Next()}", "--syslog-udp", $"127.0.0.1:{FreePort.Next()}", "--Metrics:OtlpEndpoint=collector:4318"]);
        await using (process)
        {
            await Eventually.True(() => process.HasExited, TimeSpan.FromSeconds(60), "the edge refused to start");
            Assert.Equal(2, process.ExitCode);
            Assert.Contains("Metrics:OtlpEndpoint 'collector:4318' is not an http(s) URL", process.Output, StringComparison.Ordinal);
        }
    }

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) >= 0;

    private static int Port(PipelineProcess process) => new Uri(process.HealthUrl!).Port;

    [GeneratedRegex(@"- alert: (\w+)")]
    private static partial Regex AlertName();

    [GeneratedRegex(@"job_name: ([\w-]+)")]
    private static partial Regex JobName();
}
