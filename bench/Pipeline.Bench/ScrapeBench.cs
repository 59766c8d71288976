using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Envelope;
using Pipeline.Core.Hosting;
using Pipeline.Edge;
using Pipeline.Testing;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Publishing.Spool;
using Pipeline.Edge.Routing;
using Pipeline.Edge.Sources.Scrape;
using Pipeline.Edge.Sources.Scrape.Exposition;
using Pipeline.Kafka;
using Pipeline.Kafka.Embedded;
using Pipeline.Kafka.Producing;

namespace Pipeline.Bench;

/// <summary>
/// <c>scrape</c>: samples per second from one large exposition (100,000 series by default), served over HTTP
/// on loopback, measured in the same run for: the edge's parser alone; parsing plus writing every sample's
/// envelope; a whole scrape by the edge's scrape source (fetch, parse, increases, envelopes, publish) until
/// Kafka acknowledged every sample; Prometheus's <c>promtool check metrics</c> parsing the same text; and the
/// Debian Prometheus server scraping the same endpoint (its own <c>scrape_duration_seconds</c>).
/// </summary>
internal static class ScrapeBench
{
    private sealed record Row(string What, long Samples, double Seconds, double? CpuSeconds, string Note)
    {
        public double Rate => Samples / Seconds;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var series = BenchSupport.Arg(args, "--series", 100_000);
        var rounds = BenchSupport.Arg(args, "--rounds", 5);
        var root = BenchSupport.Repository();
        var output = BenchSupport.ArgText(args, "--out") ?? Path.Combine(root, "bench", "results", $"scrape-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
        BenchSupport.RunScript(Path.Combine(root, "infra", "apt-install.sh"), "prometheus");

        var body = SyntheticExposition.Build(series);
        var work = Directory.CreateTempSubdirectory("bench-scrape-").FullName;
        var file = Path.Combine(work, "exposition.prom");
        await File.WriteAllBytesAsync(file, body);
        Console.Error.WriteLine($"[bench] exposition: {series:N0} series, {body.Length / 1048576.0:F1} MiB");
        using var server = new ExpositionServer(body);
        var rows = new List<Row>();
        try
        {
            rows.Add(ParseOnly(body, rounds));
            rows.Add(ParseAndWrite(body, rounds));
            rows.Add(await WholeScrapeAsync(server, work, rounds));
            rows.Add(await PromtoolAsync(file, rounds));
            rows.Add(await PrometheusServerAsync(server, work, rounds));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        var report = Report(rows, series, body.Length, rounds);
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report);
        Console.Error.WriteLine($"[bench] written to {output}");
        return 0;
    }

    private static Row ParseOnly(byte[] body, int rounds)
    {
        using var parsed = new ParsedExposition();
        var (seconds, cpu) = Best(rounds, () =>
        {
            var error = ExpositionParser.Parse(body, ExpositionFormat.PrometheusText, 10_000_000, parsed);
            if (error is not null) throw new InvalidOperationException(error.ToString());
        });
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        ExpositionParser.Parse(body, ExpositionFormat.PrometheusText, 10_000_000, parsed);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        return new Row("edge: parse only", parsed.SampleCount, seconds, cpu, $"{allocated:N0} bytes allocated per parse once warm");
    }

    private static Row ParseAndWrite(byte[] body, int rounds)
    {
        using var parsed = new ParsedExposition();
        var memory = new SeriesMemory();
        var target = Target("http://127.0.0.1:9100/metrics");
        var writer = EnvelopeWriter.ForCurrentThread;
        long bytes = 0;
        var (seconds, cpu) = Best(rounds, () =>
        {
            ExpositionParser.Parse(body, ExpositionFormat.PrometheusText, 10_000_000, parsed);
            memory.Apply(body, parsed.Samples);
            var header = new EnvelopeHeader(DateTimeOffset.UtcNow, EventKinds.Metric, target.Origin, 1);
            bytes = 0;
            foreach (var s in parsed.Samples)
            {
                var family = parsed.Families[s.Family];
                var view = new MetricSampleView
                {
                    Name = s.Name.Of(body), Labels = s.Labels.Of(body), Type = family.Type, Value = s.Value, Delta = s.Delta,
                    Family = family.Name.Length != s.Name.Length ? family.Name.Of(body) : default,
                };
                bytes += writer.WriteMetricSample(header, view, target).Length;
            }
        });
        return new Row("edge: parse + envelopes (no Kafka)", parsed.SampleCount, seconds, cpu, $"{bytes / parsed.SampleCount} bytes per envelope");
    }

    /// <summary>The scrape source's own path, in this process against the embedded broker: from the GET to Kafka's last acknowledgement.</summary>
    private static async Task<Row> WholeScrapeAsync(ExpositionServer server, string work, int rounds)
    {
        using var kafka = EmbeddedKafkaCluster.Start(1);
        kafka.CreateTopic("metrics", 6);
        using var meters = new InProcessMetrics();
        var edgeMetrics = new EdgeMetrics(meters);
        var ledger = new LossLedger(edgeMetrics);
        using var publisher = new EdgePublisher(new KafkaOptions { BootstrapServers = kafka.BootstrapServers }, new ProducerSettings(),
            new SpoolOptions { Directory = Path.Combine(work, "spool") }, new MemoryBufferOptions(), "bench-scrape", ledger, edgeMetrics, new HealthState(),
            NullLogger<EdgePublisher>.Instance);
        var ingest = new ScrapeIngest(new Router([]), publisher, ledger);
        var target = Target(server.Url);
        var health = new ScrapeMetrics(meters).Track(target);
        await using var loop = new ScrapeLoop(target, new ScrapeFetcher(ScrapeFetcher.CreateClient(), TimeProvider.System), ingest, health, TimeProvider.System,
            NullLogger.Instance, "bench");
        var best = double.MaxValue;
        double bestCpu = 0, handedOver = 0;
        long samples = 0;
        for (var round = 0; round <= rounds; round++)
        {
            var published = Published(ledger);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await loop.ScrapeOnceAsync(DateTimeOffset.UtcNow, CancellationToken.None);
            var snapshot = health.Snapshot();
            if (!snapshot.Up) throw new InvalidOperationException("the bench scrape failed; see edge_scrape_errors_total");
            samples = snapshot.Samples;
            // The scrape's samples plus its three report samples.
            while (Published(ledger) < published + samples + 3)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("Kafka did not acknowledge the scrape");
                await Task.Delay(1);
            }
            var seconds = clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"[bench] whole scrape round {round}: {samples / seconds:N0} samples/s (handed over in {snapshot.Duration:F3} s, acknowledged in {seconds:F3} s)");
            if (round == 0 || seconds >= best) continue; // round 0 warms the JIT and creates the series memory
            best = seconds;
            bestCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            handedOver = snapshot.Duration;
        }
        return new Row("edge: whole scrape → Kafka acknowledged", samples, best, bestCpu,
            $"all handed to the producer after {handedOver:F3} s; CPU includes the in-process broker");
    }

    private static long Published(LossLedger ledger) => ledger.Cells.Sum(c => c.Snapshot().Published);

    /// <summary><c>promtool check metrics</c> (Prometheus's expfmt parser plus its linter) over the same text, best of the rounds.</summary>
    private static async Task<Row> PromtoolAsync(string file, int rounds)
    {
        var best = double.MaxValue;
        double bestCpu = 0;
        for (var round = 0; round < rounds; round++)
        {
            var timing = await RunAsync("bash", ["-c", $"TIMEFORMAT='%R %U %S'; time (promtool check metrics < '{file}' > /dev/null 2>&1)"]);
            var parts = timing.Trim().Split('\n')[^1].Split(' ').Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            if (parts[0] < best) (best, bestCpu) = (parts[0], parts[1] + parts[2]);
        }
        var samples = File.ReadLines(file).Count(l => l.Length > 0 && l[0] != '#');
        return new Row("promtool check metrics (parse + lint)", samples, best, bestCpu, "process start included (~0.05 s)");
    }

    /// <summary>
    /// The Debian Prometheus server scraping the same endpoint every 5 s: its own <c>scrape_duration_seconds</c>
    /// (fetch, parse, append to its in-memory head) of the later scrapes, once its series exist.
    /// </summary>
    private static async Task<Row> PrometheusServerAsync(ExpositionServer server, string work, int rounds)
    {
        var port = BenchSupport.FreePort();
        var config = Path.Combine(work, "prometheus.yml");
        await File.WriteAllTextAsync(config, $$"""
            global: { scrape_interval: 5s, scrape_timeout: 4s }
            scrape_configs:
              - job_name: bench
                static_configs: [ { targets: ['127.0.0.1:{{server.Port}}'] } ]
            """);
        using var prometheus = BenchProcess.Start("prometheus", "prometheus",
            [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(work, "tsdb")}", $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]);
        try
        {
            using var http = new HttpClient();
            var durations = new List<double>();
            double samples = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5 * (rounds + 4) + 30);
            double cpuAtSecond = 0;
            while (durations.Count < rounds + 1)
            {
                if (DateTime.UtcNow > deadline || prometheus.HasExited) throw new TimeoutException("Prometheus did not scrape:\n" + string.Join('\n', prometheus.Output));
                await Task.Delay(1000);
                try
                {
                    var answer = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/api/v1/query?query=scrape_duration_seconds{{job=\"bench\"}}[10m]"));
                    using var json = JsonDocument.Parse(answer);
                    var result = json.RootElement.GetProperty("data").GetProperty("result");
                    if (result.GetArrayLength() == 0) continue;
                    var values = result[0].GetProperty("values").EnumerateArray().Select(v => double.Parse(v[1].GetString()!, CultureInfo.InvariantCulture)).ToList();
                    if (values.Count >= 2 && cpuAtSecond == 0) cpuAtSecond = prometheus.CpuSeconds();
                    durations = values;
                    using var count = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/api/v1/query?query=scrape_samples_scraped{{job=\"bench\"}}")));
                    samples = double.Parse(count.RootElement.GetProperty("data").GetProperty("result")[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                }
                catch (HttpRequestException)
                {
                }
            }
            var steady = durations.Skip(1).ToList();
            var cpuPerScrape = (prometheus.CpuSeconds() - cpuAtSecond) / Math.Max(1, durations.Count - 2);
            foreach (var d in durations) Console.Error.WriteLine($"[bench] prometheus scrape: {samples / d:N0} samples/s ({d:F3} s)");
            return new Row("Prometheus 2.42 server scrape (fetch, parse, append)", (long)samples, steady.Min(), cpuPerScrape,
                $"its scrape_duration_seconds; first scrape (series creation) {durations[0]:F3} s; CPU per scrape averaged");
        }
        finally
        {
            prometheus.Stop();
        }
    }

    private static ScrapeTarget Target(string url) =>
        new ScrapeTargetFactory(new ScrapeOptions(), "bench", new Dictionary<string, string>()).FromOptions(new ScrapeTargetOptions { Url = url, Job = "bench" });

    /// <summary>The best (fastest) of <paramref name="rounds"/> runs after one warm-up, with the CPU time of that run.</summary>
    private static (double Seconds, double Cpu) Best(int rounds, Action run)
    {
        run();
        var best = (Seconds: double.MaxValue, Cpu: 0.0);
        for (var i = 0; i < rounds; i++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            run();
            var seconds = clock.Elapsed.TotalSeconds;
            if (seconds < best.Seconds) best = (seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        }
        return best;
    }

    private static async Task<string> RunAsync(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (await stdout) + stderr;
    }

    private static string Report(List<Row> rows, int series, int bytes, int rounds)
    {
        var text = new StringBuilder();
        var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        text.AppendLine(CultureInfo.InvariantCulture, $"Scrape, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {load} at the end; {series:N0} series, {bytes / 1048576.0:F1} MiB of text format; best of {rounds} rounds after a warm-up.");
        text.AppendLine();
        text.AppendLine("| what | samples | seconds | samples/s | CPU s | vs promtool | note |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        var promtool = rows.First(r => r.What.StartsWith("promtool", StringComparison.Ordinal));
        foreach (var r in rows)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.What} | {r.Samples:N0} | {r.Seconds:F3} | {r.Rate:N0} | {(r.CpuSeconds is { } c ? c.ToString("F2", CultureInfo.InvariantCulture) : "")} | {r.Rate / promtool.Rate:F1}× | {r.Note} |");
        return text.ToString();
    }
}
