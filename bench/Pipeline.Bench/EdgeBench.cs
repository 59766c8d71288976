using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Confluent.Kafka;
using Pipeline.Kafka.Embedded;

namespace Pipeline.Bench;

/// <summary>
/// <c>edge</c>: drives the edge and rsyslog (imtcp/imudp → omkafka) with the same load into the same
/// embedded Kafka broker, in the same run, and reports for each: msgs/s into Kafka, loss, CPU seconds
/// and peak memory of the process. Each scenario runs on a fresh process and topic.
/// </summary>
internal static class EdgeBench
{
    /// <summary>What a run sets for the peers: the UDP socket buffer both get, and the edge's own options.</summary>
    private sealed record PeerSettings(int UdpReceiveBufferMiB, string[] EdgeArgs, string? EdgeDll);

    private sealed record Row(string Peer, string Scenario, long Offered, long Arrived, double Seconds, double CpuSeconds, long PeakRss)
    {
        public double Rate => Arrived / Seconds;
        public double LossPercent => Offered == 0 ? 0 : 100.0 * (Offered - Arrived) / Offered;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var tcpMessages = BenchSupport.Arg(args, "--tcp-messages", 1_000_000);
        var connections = BenchSupport.Arg(args, "--connections", 2);
        // "none" leaves UDP out (a TCP/JSON-only run).
        var udpRates = (BenchSupport.ArgText(args, "--udp-rates") ?? "50000,100000,0").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Where(r => r != "none").Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToArray();
        var udpSeconds = BenchSupport.Arg(args, "--udp-seconds", 5);
        var httpEvents = BenchSupport.Arg(args, "--http-events", 500_000);
        var peers = (BenchSupport.ArgText(args, "--peers") ?? "edge,rsyslog").Split(',');
        // Which loads to run: tcp, udp, http (JSON events), otlp (the edge's OTLP logs, protobuf and JSON).
        var loads = (BenchSupport.ArgText(args, "--loads") ?? "tcp,udp,http,otlp").Split(',').ToHashSet();
        // The edge's UDP queue (its burst cushion); 0 keeps the edge's default. rsyslog's queue here is 2M messages.
        var udpQueueMiB = BenchSupport.Arg(args, "--udp-queue-mib", 0);
        // The kernel receive buffer of the UDP socket, the same for both (SO_RCVBUFFORCE: the benchmark runs as root).
        var udpReceiveBufferMiB = BenchSupport.Arg(args, "--udp-rcvbuf-mib", 32);
        // Another build of the edge (e.g. the one before a change), measured the same way.
        var edgeDll = BenchSupport.ArgText(args, "--edge-dll");
        var settings = new PeerSettings(udpReceiveBufferMiB,
        [
            $"--Edge:Listeners:syslog-udp:ReceiveBufferBytes={udpReceiveBufferMiB * 1024L * 1024}",
            .. udpQueueMiB > 0 ? [$"--Edge:Listeners:syslog-udp:QueueBytes={udpQueueMiB * 1024L * 1024}"] : Array.Empty<string>(),
            // More edge settings for a trial, e.g. --edge-options "Edge:Listeners:syslog-udp:ProcessLoops=1".
            .. (BenchSupport.ArgText(args, "--edge-options") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(o => "--" + o),
        ], edgeDll);
        // Each scenario first runs the same load at this fraction of its size, not counted: the figures are a
        // long-running daemon's steady state (the edge's JIT has compiled its hot paths), not its first seconds.
        var warmup = double.Parse(BenchSupport.ArgText(args, "--warmup") ?? "1", CultureInfo.InvariantCulture);
        var root = BenchSupport.Repository();
        var output = BenchSupport.ArgText(args, "--out") ?? Path.Combine(root, "bench", "results", $"edge-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");

        Run("bash", [Path.Combine(root, "infra", "apt-install.sh"), "rsyslog", "rsyslog-kafka"]);
        using var kafka = EmbeddedKafkaCluster.Start(1);
        Console.Error.WriteLine($"[bench] embedded Kafka at {kafka.BootstrapServers}");
        var rows = new List<Row>();
        var scenario = 0;

        foreach (var peer in peers)
        {
            if (loads.Contains("tcp"))
                rows.Add(await MeasureAsync(kafka, root, peer, $"tcp x{connections}, max rate", tcpMessages, warmup, ++scenario, settings,
                    (port, count) => LoadSenders.SendTcpAsync(port, count, connections)));
            foreach (var rate in loads.Contains("udp") ? udpRates : [])
            {
                var count = rate == 0 ? 1_000_000 : rate * udpSeconds;
                rows.Add(await MeasureAsync(kafka, root, peer, rate == 0 ? "udp, max rate" : $"udp at {rate:N0}/s", count, warmup, ++scenario, settings,
                    (port, n) => Task.Run(() => LoadSenders.SendUdp(port, n, rate))));
            }
            if (httpEvents == 0)
            {
                continue;
            }
            if (EdgePeers.IsEdge(peer))
            {
                if (loads.Contains("http"))
                    rows.Add(await MeasureAsync(kafka, root, peer, HttpScenario, httpEvents, warmup, ++scenario, settings,
                        (port, count) => LoadSenders.SendHttpAsync($"http://127.0.0.1:{port + 1}", count, batch: 500, clients: 4)));
                // The same number of log records, 500 a request, over OTLP/HTTP in each encoding.
                foreach (var json in loads.Contains("otlp") ? [false, true] : Array.Empty<bool>())
                    rows.Add(await MeasureAsync(kafka, root, peer, json ? OtlpJsonScenario : OtlpProtobufScenario, httpEvents, warmup, ++scenario, settings,
                        (port, count) => LoadSenders.SendOtlpAsync($"http://127.0.0.1:{port + 1}", count, batch: 500, clients: 4, json)));
            }
            else if (loads.Contains("http"))
            {
                // rsyslog has no HTTP input in Debian: the same JSON events reach it over TCP after a CEE cookie, and
                // mmjsonparse parses each one, so it does the JSON work the edge's HTTP input does.
                rows.Add(await MeasureAsync(kafka, root, peer, JsonOverTcpScenario, httpEvents, warmup, ++scenario, settings,
                    (port, count) => LoadSenders.SendTcpAsync(port, count, 4, LoadSenders.CeeLine)));
            }
        }

        var report = Report(rows, tcpMessages, connections, warmup, settings);
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report);
        Console.Error.WriteLine($"[bench] written to {output}");
        return 0;
    }

    private static async Task<Row> MeasureAsync(EmbeddedKafkaCluster kafka, string root, string peer, string scenario, int offered, double warmup, int n,
        PeerSettings settings, Func<int, int, Task> load)
    {
        var topic = $"bench-{n}";
        kafka.CreateTopic(topic, 6);
        var port = BenchSupport.FreePort();
        var work = Directory.CreateTempSubdirectory($"bench-{n}-").FullName;
        using var process = EdgePeers.IsEdge(peer) ? EdgePeers.StartEdge(peer.StartsWith("edge@", StringComparison.Ordinal) ? peer[5..] : peer == "edge" && settings.EdgeDll is not null ? Path.GetDirectoryName(Path.GetFullPath(settings.EdgeDll)) : null, root, kafka, topic, port, work, settings.EdgeArgs, EdgePeers.EdgeEnvironment(peer))
            : EdgePeers.StartRsyslog(kafka, topic, port, work, json: scenario == JsonOverTcpScenario, settings.UdpReceiveBufferMiB);
        try
        {
            await WaitListeningAsync(process, port);
            if (EdgePeers.IsEdge(peer)) await WaitListeningAsync(process, port + 1);
            long before = 0;
            if (warmup > 0)
            {
                var warmupCount = (int)(offered * warmup);
                await load(port, warmupCount);
                (before, _) = await WaitArrivedAsync(kafka.BootstrapServers, topic, warmupCount, Stopwatch.StartNew());
            }
            var cpuBefore = process.CpuSeconds();
            var clock = Stopwatch.StartNew();
            await load(port, offered);
            var (arrived, at) = await WaitArrivedAsync(kafka.BootstrapServers, topic, before + offered, clock);
            var row = new Row(peer, scenario, offered, arrived - before, at.TotalSeconds, process.CpuSeconds() - cpuBefore, process.PeakRssBytes());
            Console.Error.WriteLine($"[bench] {peer,-8} {scenario,-26} {row.Rate,10:N0} msg/s  loss {row.LossPercent,6:F2}%  cpu {row.CpuSeconds,6:F1}s  peak {row.PeakRss >> 20} MiB");
            if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1")
            {
                lock (process.Output) foreach (var line in process.Output.TakeLast(40)) Console.Error.WriteLine($"[{peer}] {line}");
                if (EdgePeers.IsEdge(peer)) await PrintLossCountersAsync(port + 1);
            }
            return row;
        }
        finally
        {
            process.Stop();
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Where the edge's losses were counted (its UDP and drop counters), for a verbose run.</summary>
    private static async Task PrintLossCountersAsync(int httpPort)
    {
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{httpPort}/metrics"));
        foreach (var line in metrics.Split('\n').Where(l => l.StartsWith("edge_udp_", StringComparison.Ordinal) || l.StartsWith("edge_events_dropped", StringComparison.Ordinal) || l.StartsWith("edge_events_spooled", StringComparison.Ordinal)))
            Console.Error.WriteLine($"[edge] {line}");
    }

    private const string HttpScenario = "http ndjson x4, max rate";
    private const string OtlpProtobufScenario = "otlp protobuf x4, max rate";
    private const string OtlpJsonScenario = "otlp json x4, max rate";
    private const string JsonOverTcpScenario = "json events, tcp x4 + mmjsonparse, max rate";

    private static async Task WaitListeningAsync(BenchProcess process, int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.Name} exited:\n{string.Join('\n', process.Output)}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                // The edge also needs its producer connected: give the first metadata round trip a moment.
                await Task.Delay(500);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"{process.Name} not listening on {port}");
    }

    /// <summary>Polls end offsets until everything offered arrived or nothing moved for 5 s; returns the count and when the last arrived.</summary>
    private static async Task<(long Arrived, TimeSpan At)> WaitArrivedAsync(string bootstrap, string topic, long offered, Stopwatch clock)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-watermarks" })
            .SetLogHandler((_, _) => { }).Build();
        long arrived = -1;
        var lastChange = clock.Elapsed;
        while (true)
        {
            var now = Enumerable.Range(0, 6).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
            if (now != arrived)
            {
                arrived = now;
                lastChange = clock.Elapsed;
            }
            if (arrived >= offered || clock.Elapsed - lastChange > TimeSpan.FromSeconds(5)) return (arrived, lastChange);
            await Task.Delay(20);
        }
    }

    private static string Report(List<Row> rows, int tcpMessages, int connections, double warmup, PeerSettings settings)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Edge vs rsyslog, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, one embedded Kafka broker (in the benchmark process), ~120-byte RFC 5424 lines.");
        text.AppendLine(CultureInfo.InvariantCulture, $"UDP socket receive buffer {settings.UdpReceiveBufferMiB} MiB for both; edge options: {(settings.EdgeArgs.Length == 0 ? "defaults" : string.Join(' ', settings.EdgeArgs))}.");
        if (warmup > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"Each scenario is measured after a warm-up of the same load at {warmup:P0} of its size (not counted), on the same process.");
        else
            text.AppendLine("Cold: each scenario is measured from the process's first message (no warm-up).");
        text.AppendLine();
        text.AppendLine("| peer | load | offered | in Kafka | msgs/s | loss % | CPU s | CPU µs/msg | peak RSS MiB |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Peer} | {r.Scenario} | {r.Offered:N0} | {r.Arrived:N0} | {r.Rate:N0} | {r.LossPercent:F2} | {r.CpuSeconds:F1} | {1e6 * r.CpuSeconds / Math.Max(1, r.Arrived):F1} | {r.PeakRss >> 20} |");
        text.AppendLine();
        var edgeTcp = rows.FirstOrDefault(r => r.Peer == "edge" && r.Scenario.StartsWith("tcp", StringComparison.Ordinal));
        var rsyslogTcp = rows.FirstOrDefault(r => r.Peer == "rsyslog" && r.Scenario.StartsWith("tcp", StringComparison.Ordinal));
        var edgeHttp = rows.FirstOrDefault(r => r.Peer == "edge" && r.Scenario == HttpScenario);
        var rsyslogJson = rows.FirstOrDefault(r => r.Peer == "rsyslog" && r.Scenario == JsonOverTcpScenario);
        if (edgeTcp is not null && rsyslogTcp is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"TCP ({tcpMessages:N0} messages over {connections} connections): edge / rsyslog throughput = {edgeTcp.Rate / rsyslogTcp.Rate:F2}; CPU per message = {PerMessage(edgeTcp) / PerMessage(rsyslogTcp):F2}x.");
            if (edgeHttp is not null)
                text.AppendLine(CultureInfo.InvariantCulture, $"HTTP (edge) / syslog over TCP (rsyslog) throughput = {edgeHttp.Rate / rsyslogTcp.Rate:F2}.");
        }
        foreach (var otlp in rows.Where(r => r.Scenario is OtlpProtobufScenario or OtlpJsonScenario))
            if (edgeHttp is not null)
                text.AppendLine(CultureInfo.InvariantCulture, $"{otlp.Scenario}: {otlp.Rate:N0} records/s = {otlp.Rate / edgeHttp.Rate:F2}x the edge's /v1/events rate; CPU per record = {PerMessage(otlp) / PerMessage(edgeHttp):F2}x.");
        if (edgeHttp is not null && rsyslogJson is not null)
            text.AppendLine(CultureInfo.InvariantCulture, $"JSON events: HTTP NDJSON (edge) / TCP + mmjsonparse (rsyslog) throughput = {edgeHttp.Rate / rsyslogJson.Rate:F2}; CPU per event = {PerMessage(edgeHttp) / PerMessage(rsyslogJson):F2}x.");
        var jitTcp = rows.FirstOrDefault(r => r.Peer == EdgePeers.JitOnlyEdge && r.Scenario.StartsWith("tcp", StringComparison.Ordinal));
        var jitHttp = rows.FirstOrDefault(r => r.Peer == EdgePeers.JitOnlyEdge && r.Scenario == HttpScenario);
        if (jitTcp is not null && rsyslogTcp is not null && jitHttp is not null && rsyslogJson is not null)
            text.AppendLine(CultureInfo.InvariantCulture, $"The same edge without its ReadyToRun code (JIT only): TCP {jitTcp.Rate / rsyslogTcp.Rate:F2}, JSON events {jitHttp.Rate / rsyslogJson.Rate:F2} of rsyslog.");
        var edges = rows.Where(r => r.Peer == "edge" && (r.Scenario.StartsWith("tcp", StringComparison.Ordinal) || r.Scenario == HttpScenario)).ToList();
        if (edges.Count > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"Edge peak RSS in the TCP and HTTP scenarios: {string.Join(", ", edges.Select(r => $"{r.PeakRss >> 20} MiB"))}.");
        return text.ToString();
    }

    private static double PerMessage(Row row) => row.CpuSeconds / Math.Max(1, row.Arrived);

    private static void Run(string file, string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false })!;
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed");
    }

}
