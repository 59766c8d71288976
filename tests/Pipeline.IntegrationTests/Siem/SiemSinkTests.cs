using System.Globalization;
using System.Text.RegularExpressions;
using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Siem;

/// <summary>
/// The SIEM sink as it runs: its executable against an embedded Kafka cluster, with a real rsyslogd as
/// the syslog SIEM, a HEC-protocol endpoint, the NOC sink beside it, SIGKILL and the verify command.
/// </summary>
public sealed partial class SiemSinkTests(ITestOutputHelper testOutput) : IAsyncLifetime
{
    private const string Siem = "consumers/Pipeline.Consumers.Siem";
    private static readonly DateTimeOffset T0 = new(2025, 3, 12, 9, 0, 0, TimeSpan.Zero);
    private readonly SiemArchive _archive = SiemArchive.NewTemporary();
    private PipelineUnderTest _pipeline = null!;

    public Task InitializeAsync()
    {
        _pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 6, "alerts");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _pipeline.DisposeAsync();
        _archive.Delete();
    }

    private Task<PipelineProcess> StartSiemAsync(IDictionary<string, string>? environment = null, params string[] args)
    {
        // A killed member holds its partitions until its session times out: keep that short so restarts resume quickly.
        var settings = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["Consumer__SessionTimeout"] = "00:00:06",
            ["Consumer__DrainTimeout"] = "00:00:04",
            ["Siem__Alerts__Topic"] = _pipeline.Topic("alerts"),
        };
        return _pipeline.StartConsumerAsync(Siem, ["--archive", _archive.Directory, "--topics", _pipeline.Topic("syslog"), "--batch-size", "500", "--batch-wait", "00:00:00.200", .. args], settings);
    }

    private static Dictionary<string, string> CefForwarder(string endpoint) => new()
    {
        ["Siem__Forwarders__0__Name"] = "rsyslog",
        ["Siem__Forwarders__0__Type"] = "cef-syslog",
        ["Siem__Forwarders__0__Endpoint"] = endpoint,
        ["Siem__Forwarders__0__RetryInitialBackoff"] = "00:00:00.200",
        ["Siem__Forwarders__0__RetryMaxBackoff"] = "00:00:01",
        ["Siem__Forwarders__0__Timeout"] = "00:00:03",
    };

    /// <summary>
    /// Until <paramref name="alerts"/> alerts are archived, committed and passed by the Kafka alerts forwarder. An alert
    /// is appended after the event that raises it, so the events being archived does not mean their alerts are.
    /// </summary>
    private async Task WaitAlertsPublishedAsync(int alerts)
    {
        var seqs = await Eventually.Until(() => Task.FromResult(_archive.Records().Where(r => r.Type == "alert").Select(r => r.Seq).ToList()),
            s => s.Count >= alerts, TimeSpan.FromSeconds(30), $"{alerts} alert(s) archived");
        await Eventually.Until(() => Task.FromResult(_archive.CommittedSeq), c => c >= seqs.Max(), TimeSpan.FromSeconds(30), "the alerts committed");
        await Eventually.Until(() => Task.FromResult(_archive.CursorSeq("kafka-alerts")), c => c >= seqs.Max(), TimeSpan.FromSeconds(30), "the alerts published");
    }

    private Task WaitArchivedAsync(long events, TimeSpan? timeout = null) =>
        Eventually.Until(() => Task.FromResult(_archive.Records().Count(r => r.Type == "event")), n => n >= events, timeout ?? TimeSpan.FromSeconds(60), "events archived");

    /// <summary>A mixed stream: security lines the rules classify (never enough from one source to alert) and other events.</summary>
    private static List<TelemetryEvent> MixedEvents(int count, int from = 0) => Enumerable.Range(from, count).Select(i => (i % 5) switch
    {
        0 => TestEnvelopes.Syslog("sshd", $"Failed password for user{i} from 203.0.113.{i % 250} port {40000 + i} ssh2", T0.AddSeconds(i * 61)),
        1 => TestEnvelopes.Syslog("sshd", $"Accepted publickey for alice from 192.0.2.10 port {50000 + i} ssh2: ED25519 SHA256:k{i}", T0.AddSeconds(i)),
        2 => TestEnvelopes.Syslog("sudo", $"   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/grep -c x=y|z {i}", T0.AddSeconds(i)),
        3 => TestEnvelopes.Syslog("app", $"line {i} with = and | and \\ and a\nsecond line and ünïcödé", T0.AddSeconds(i), pid: null, severity: 3),
        _ => TestEnvelopes.Syslog("kernel", $"[{i}.5] IPTABLES-DROP: IN=eth0 OUT= MAC=00:11 SRC=198.51.100.{i % 200} DST=192.0.2.1 LEN=60 PROTO=TCP SPT={30000 + i} DPT=22 SYN", T0.AddSeconds(i * 11), host: "gw1"),
    }).ToList();

    [KafkaFact]
    public async Task ForwardedCefLinesReachARealRsyslogOverTcpAndMatchTheArchiveRecordForRecord()
    {
        await using var rsyslog = await PrivateRsyslog.StartAsync();
        var events = MixedEvents(150);
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), events);
        var siem = await StartSiemAsync(CefForwarder(rsyslog.Endpoint));

        await WaitArchivedAsync(events.Count);
        var lines = await Eventually.Until(() => Task.FromResult(rsyslog.Lines()), l => l.Count >= events.Count, TimeSpan.FromSeconds(30), "CEF lines at rsyslog");

        var records = _archive.Records();
        Assert.Equal(events.Count, records.Count);
        Assert.Equal(events.Select(e => e.Id).Order(StringComparer.Ordinal), records.Select(r => r.Id).Order(StringComparer.Ordinal));
        var bySeq = lines.Select(Cef.Parse).ToDictionary(c => long.Parse(c.Ext["cs1"], CultureInfo.InvariantCulture));
        Assert.Equal(records.Count, bySeq.Count);
        foreach (var record in records)
        {
            var cef = bySeq[record.Seq];
            Assert.Equal(("Pipeline", "telemetry-pipeline", "1.0"), (cef.Vendor, cef.Product, cef.Version));
            Assert.Equal(record.Hash, cef.Ext["cs2"]);
            Assert.Equal(record.Id, cef.Ext["externalId"]);
            Assert.Equal(record.Field("message"), cef.Ext["msg"]);
            Assert.Equal(DateTimeOffset.Parse(record.Field("@timestamp")!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), cef.Ext["rt"]);
            Assert.Equal($"{record.Topic}/{record.Partition}/{record.Offset}", cef.Ext["cs3"]);
            Assert.Equal(record.Field("event.code") ?? "unclassified", cef.Signature);
            Assert.Equal(record.Field("source.ip"), cef.Ext.GetValueOrDefault("src"));
            Assert.Equal(record.Field("user.name"), cef.Ext.GetValueOrDefault("suser"));
            Assert.Equal(record.Field("event.action"), cef.Ext.GetValueOrDefault("act"));
        }
        Assert.Contains(bySeq.Values, c => c.Ext["msg"].Contains("= and | and \\ and a\nsecond line and ünïcödé", StringComparison.Ordinal));
        Assert.Contains(bySeq.Values, c => c.Signature == "sshd-failed-password" && c.Name == "SSH login failed" && c.Severity == "5");
        await Eventually.Until(() => siem.GetAsync("/metrics"), m => m.Contains("siem_forward_lag_records{destination=\"rsyslog\"} 0\n", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "no forwarding lag on /metrics");
    }

    [KafkaFact]
    public async Task WhileTheSyslogSiemIsDownArchivingGoesOnAndAfterwardsEverythingIsForwarded()
    {
        await using var rsyslog = await PrivateRsyslog.StartAsync();
        var before = MixedEvents(100);
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), before);
        var siem = await StartSiemAsync(CefForwarder(rsyslog.Endpoint));
        await Eventually.Until(() => Task.FromResult(rsyslog.Lines().Count), n => n >= before.Count, TimeSpan.FromSeconds(60), "first lines at rsyslog");

        await rsyslog.StopAsync();
        var during = MixedEvents(400, from: 100);
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), during);

        // The SIEM is away: the archive takes everything regardless, and the metrics say forwarding is behind and failing.
        await WaitArchivedAsync(before.Count + during.Count, TimeSpan.FromSeconds(15));
        var metrics = await Eventually.Until(() => siem.GetAsync("/metrics"), m => Metric(m, "siem_forward_failures_total{destination=\"rsyslog\"}") > 0
            && Metric(m, "siem_forward_lag_records{destination=\"rsyslog\"}") > 0, TimeSpan.FromSeconds(15), "forwarding failures on /metrics");
        Assert.Equal(0, Metric(metrics, "siem_forward_up{destination=\"rsyslog\"}"));
        // The SIEM stays away, not for a set time, but until the forwarder has tried again and again (backoff 0.2 s
        // growing to its 1 s cap), so it comes back to a forwarder well into its retries.
        await Eventually.Until(() => siem.GetAsync("/metrics"), m => Metric(m, "siem_forward_failures_total{destination=\"rsyslog\"}") >= 10,
            TimeSpan.FromSeconds(60), "ten failed sends while the SIEM is down");
        Assert.False(rsyslog.Running);
        await rsyslog.StartAgainAsync();

        var records = _archive.Records();
        Assert.Equal(before.Count + during.Count, records.Count);
        var seen = await Eventually.Until(() => Task.FromResult(rsyslog.Lines().Select(l => long.Parse(Cef.Parse(l).Ext["cs1"], CultureInfo.InvariantCulture)).ToList()),
            s => s.Distinct().Count() >= records.Count, TimeSpan.FromSeconds(60), "every archived record at rsyslog");
        Assert.Equal(records.Select(r => r.Seq).Order(), seen.Distinct().Order());
        testOutput.WriteLine($"{records.Count} records archived, {seen.Count} CEF lines received ({seen.Count - records.Count} duplicates from at-least-once resends)");
        await Eventually.Until(() => siem.GetAsync("/metrics"), m => Metric(m, "siem_forward_lag_records{destination=\"rsyslog\"}") == 0, TimeSpan.FromSeconds(10), "lag back to 0");
    }

    [KafkaFact]
    public async Task HecEventsWhoseAcknowledgementIsWithheldAreSentAgainAndNoneCountsAsDeliveredBeforeItsAck()
    {
        const string token = "hec-token-for-tests";
        // The first request holding a marked event is never acknowledged (an indexer that lost it).
        var firstTry = new HashSet<string>();
        await using var hec = new FakeHecServer(token, (ids, messages) =>
        {
            var fresh = false;
            lock (firstTry)
                foreach (var id in ids) fresh |= firstTry.Add(id);
            return fresh && messages.Any(m => m.Contains("withhold", StringComparison.Ordinal));
        });
        var events = Enumerable.Range(0, 300).Select(i => TestEnvelopes.Syslog("app", i % 60 == 7 ? $"event {i} withhold" : $"event {i}", T0.AddSeconds(i))).ToList();
        var siem = await StartSiemAsync(new Dictionary<string, string>
        {
            ["Siem__Forwarders__0__Name"] = "splunk",
            ["Siem__Forwarders__0__Type"] = "hec",
            ["Siem__Forwarders__0__Endpoint"] = hec.Endpoint,
            ["Siem__Forwarders__0__Token"] = token,
            ["Siem__Forwarders__0__BatchSize"] = "25",
            ["Siem__Forwarders__0__MaxInFlight"] = "4",
            ["Siem__Forwarders__0__AckTimeout"] = "00:00:02",
            ["Siem__Forwarders__0__AckPollInterval"] = "00:00:00.100",
            ["Siem__Forwarders__0__RetryInitialBackoff"] = "00:00:00.200",
        });
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), events);

        // Sample the sink's own count of delivered events against what the endpoint had acknowledged at that moment.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var delivered = Metric(await siem.GetAsync("/metrics"), "siem_forward_records_total{destination=\"splunk\",outcome=\"delivered\"}");
            var acknowledged = hec.AcknowledgedCount;
            Assert.True(delivered <= acknowledged, $"{delivered} counted delivered but only {acknowledged} acknowledged");
            if (delivered >= events.Count) break;
            Assert.True(DateTime.UtcNow < deadline, $"not all delivered: {delivered} of {events.Count}\n{siem.Output}");
            await Task.Delay(50);
        }

        Assert.True(hec.WithheldRequests > 0);
        testOutput.WriteLine($"{hec.WithheldRequests} HEC requests never acknowledged; {hec.Received.Values.Sum()} events sent for {events.Count}");
        Assert.Equal(0, hec.Unauthorised);
        Assert.Equal(events.Select(e => e.Id).ToHashSet(), hec.Acknowledged);
        var marked = events.Where(e => e.Message!.Contains("withhold", StringComparison.Ordinal)).ToList();
        Assert.All(marked, e => Assert.True(hec.Received[e.Id] >= 2, $"{e.Message} was not sent again"));
        var metrics = await siem.GetAsync("/metrics");
        Assert.True(Metric(metrics, "siem_forward_resent_records_total{destination=\"splunk\"}") >= marked.Count);
        Assert.Equal(events.Count, _archive.CursorSeq("splunk"));
    }

    [KafkaFact]
    public async Task AfterSigkillMidStreamAndARestartTheArchiveHoldsEveryEventOnceAndVerifyCatchesEachKindOfTampering()
    {
        const int total = 20_000;
        var events = Enumerable.Range(0, total).Select(i => TestEnvelopes.Syslog("app", $"event {i} of the kill test", T0.AddMilliseconds(i), host: "host" + (i % 12))).ToList();
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), events);
        // Small batches at first, so the kill lands while records are still being archived.
        var first = await StartSiemAsync(null, "--segment-max-bytes", "1048576", "--batch-size", "50");
        await Eventually.Until(() => Task.FromResult(_archive.CommittedSeq), n => n >= 3000, TimeSpan.FromSeconds(60), "first batches archived", TimeSpan.FromMilliseconds(10));
        await first.KillAsync();
        var atKill = _archive.CommittedSeq;
        Assert.True(atKill < total, "the sink finished before it could be killed");

        var second = await StartSiemAsync(null, "--segment-max-bytes", "1048576");
        var restarted = DateTime.UtcNow;
        await Eventually.Until(() => Task.FromResult(_archive.CommittedSeq), n => n >= total, TimeSpan.FromSeconds(90), "everything archived after the restart");
        var catchUp = DateTime.UtcNow - restarted;
        await second.StopAsync();
        testOutput.WriteLine($"killed at {atKill} committed records; {total - atKill} archived after the restart in {catchUp.TotalSeconds:F1} s");
        foreach (var line in second.Output.Split('\n').Where(l => l.Contains("recovery", StringComparison.OrdinalIgnoreCase) || l.Contains("opened", StringComparison.Ordinal)))
            testOutput.WriteLine(line);

        var records = _archive.Records();
        Assert.Equal(total, records.Count);
        Assert.Equal(events.Select(e => e.Id).Order(StringComparer.Ordinal), records.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Equal(total, records.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        Assert.True(records.Select(r => r.Segment).Distinct().Count() >= 3, "expected several segments");
        var (code, output) = await _archive.VerifyAsync();
        Assert.True(code == 0, output);
        Assert.StartsWith("OK 20000 records", output, StringComparison.Ordinal);

        // Each kind of tampering, on a copy, fails at the right segment and line.
        var segment = records.First(r => r.Segment != records[0].Segment).Segment;
        await AssertTamperingFound(segment, lines => { lines[41] = lines[41].Replace("kill test", "kill tesT", StringComparison.Ordinal); return lines; }, 42, "edited");
        await AssertTamperingFound(segment, lines => { lines.RemoveAt(99); return lines; }, 100, "deleted");
        await AssertTamperingFound(segment, lines => { (lines[9], lines[10]) = (lines[10], lines[9]); return lines; }, 10, "reordered");
    }

    private async Task AssertTamperingFound(string segment, Func<List<string>, List<string>> tamper, int line, string kind)
    {
        var copy = SiemArchive.NewTemporary();
        try
        {
            Directory.CreateDirectory(copy.Directory);
            foreach (var file in Directory.GetFiles(_archive.Directory)) File.Copy(file, Path.Combine(copy.Directory, Path.GetFileName(file)));
            var path = Path.Combine(copy.Directory, segment);
            File.WriteAllText(path, string.Join("", tamper(File.ReadAllLines(path).ToList()).Select(l => l + "\n")));

            var (code, output) = await copy.VerifyAsync();

            Assert.True(code == 1, output);
            Assert.Contains($"FAILED {segment} line {line}: {kind}", output, StringComparison.Ordinal);
        }
        finally
        {
            copy.Delete();
        }
    }

    [KafkaFact]
    public async Task TheSshdAuthLogSampleYieldsExactlyTheExpectedAlertsEvenAcrossASigkill()
    {
        var events = TestEnvelopes.AuthLog(Repository.Path_("tests", "Pipeline.IntegrationTests", "Data", "siem", "auth.log"));
        var attackerFailures = events.Where(e => e.Message!.StartsWith("Failed password", StringComparison.Ordinal) && e.Message.Contains("from 203.0.113.66 ", StringComparison.Ordinal)).ToList();
        // Stop halfway through the second wave: three of its failures before the kill, the rest after.
        var split = events.IndexOf(attackerFailures[14]) + 1;
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), events.Take(split));
        var first = await StartSiemAsync();
        await WaitArchivedAsync(split);
        // Alerts reach Kafka at least once; let the first wave's alert out before the kill so the count below is exact.
        await WaitAlertsPublishedAsync(1);
        await first.KillAsync();

        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), events.Skip(split));
        var second = await StartSiemAsync();
        await WaitArchivedAsync(events.Count);
        await WaitAlertsPublishedAsync(2);

        var archivedAlerts = _archive.Records().Where(r => r.Type == "alert").ToList();
        Assert.Equal(2, archivedAlerts.Count);
        Assert.Equal(2, TestEnvelopes.Count(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("alerts"), _pipeline.Partitions("alerts")));
        var published = TestEnvelopes.ReadAll(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("alerts"), 2, TimeSpan.FromSeconds(20));
        Assert.Equal(archivedAlerts.Select(a => a.Id).Order(StringComparer.Ordinal), published.Select(p => p.Id).Order(StringComparer.Ordinal));
        var expected = new[] { attackerFailures.Take(5), attackerFailures.Skip(12).Take(5) };
        foreach (var (alert, evidence) in published.OrderBy(p => p.Id, StringComparer.Ordinal).Zip(expected))
        {
            var payload = alert.Payload!.Value;
            Assert.Equal("ssh-brute-force", payload.GetProperty("rule").GetProperty("name").GetString());
            Assert.Equal("203.0.113.66", payload.GetProperty("source").GetProperty("ip").GetString());
            Assert.Equal(evidence.Select(e => e.Id), payload.GetProperty("pipeline").GetProperty("alert").GetProperty("evidence").EnumerateArray().Select(x => x.GetString()));
        }
        Assert.Equal(events.Count, _archive.Records().Count(r => r.Type == "event"));
        Assert.True((await _archive.VerifyAsync()).ExitCode == 0);
        await second.StopAsync();
    }

    [KafkaFact]
    public async Task SecTeamGetsTheWholeStreamWhileNocTeamRunsAheadAndWhileItIsStopped()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var ahead = MixedEvents(1000);
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), ahead);
        // The NOC runs first and takes everything, then stops.
        var noc = await _pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Postgres",
            ["--postgres", db.ConnectionString, "--topics", _pipeline.Topic("syslog"), "--batch-size", "500", "--batch-wait", "00:00:00.200"]);
        await Eventually.Until(() => db.CountAsync("events"), n => n >= ahead.Count, TimeSpan.FromSeconds(60), "NOC rows");
        await noc.StopAsync();

        var whileNocStopped = MixedEvents(500, from: 1000);
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), whileNocStopped);
        var siem = await StartSiemAsync();
        await WaitArchivedAsync(ahead.Count + whileNocStopped.Count);
        var more = MixedEvents(500, from: 1500);
        TestEnvelopes.Produce(_pipeline.Kafka.BootstrapServers, _pipeline.Topic("syslog"), more);
        await WaitArchivedAsync(2000);
        await siem.StopAsync();

        var archived = _archive.Records().Where(r => r.Type == "event").Select(r => r.Id).ToList();
        Assert.Equal(ahead.Concat(whileNocStopped).Concat(more).Select(e => e.Id).Order(StringComparer.Ordinal), archived.Order(StringComparer.Ordinal));
        Assert.Equal(ahead.Count, await db.CountAsync("events"));
    }

    private static double Metric(string metrics, string series)
    {
        foreach (var line in metrics.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal)) return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
        return 0;
    }

    /// <summary>A CEF line read back: header fields and unescaped extensions.</summary>
    private sealed partial record Cef(string Vendor, string Product, string Version, string Signature, string Name, string Severity, Dictionary<string, string> Ext)
    {
        public static Cef Parse(string line)
        {
            var at = line.IndexOf("CEF:0|", StringComparison.Ordinal);
            Assert.True(at >= 0, "not CEF: " + line);
            var header = new List<string>();
            var text = new System.Text.StringBuilder();
            var i = at + 6;
            for (; header.Count < 6; i++)
            {
                if (line[i] == '\\') text.Append(line[++i]);
                else if (line[i] == '|') { header.Add(text.ToString()); text.Clear(); }
                else text.Append(line[i]);
            }
            var ext = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match m in Extension().Matches(line[i..])) ext[m.Groups["key"].Value] = Unescape(m.Groups["value"].Value);
            return new Cef(header[0], header[1], header[2], header[3], header[4], header[5], ext);
        }

        private static string Unescape(string value) =>
            Regex.Replace(value, @"\\(.)", m => m.Groups[1].Value switch { "n" => "\n", "r" => "\r", var other => other });

        [GeneratedRegex(@"(?<key>\w+)=(?<value>(?:\\.|[^\\])*?)(?=\s\w+=|$)")]
        private static partial Regex Extension();
    }
}
