using Pipeline.Kafka.Embedded;
using Pipeline.Ops.Cli;

using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Ops;

public sealed class TailCommandTests
{
    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task TailFiltersSelectTheRightLinesAndPrintThemReadably()
    {
        using var kafka = TestKafka.Start(1);
        kafka.CreateTopic("syslog", 3, 1);
        var at = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        var events = new[]
        {
            TestEvents.Syslog("web-1", "sshd", 3, "Failed password for root from 203.0.113.9 port 4711 ssh2", at, "42"),
            TestEvents.Syslog("web-1", "nginx", 6, "GET /health 200", at.AddSeconds(1)),
            TestEvents.Syslog("web-2", "sshd", 6, "Accepted publickey for deploy", at.AddSeconds(2), "43"),
            TestEvents.Syslog("web-2", "nginx", 4, "upstream timed out (110: Connection timed out)", at.AddSeconds(3)),
            TestEvents.Syslog("db-1", "postgres", 2, "could not write to file: No space left on device", at.AddSeconds(4), "7"),
            TestEvents.Syslog("db-1", "cron", 7, "job 12 done\nsecond line", at.AddSeconds(5)),
        };
        TestEvents.Produce(kafka.BootstrapServers, "syslog", events);

        async Task<List<string>> Tail(params string[] filters)
        {
            var result = await OpsTool.RunAsync(["tail", "--topics", "syslog", "--from", "earliest", "--to-end", "--kafka", kafka.BootstrapServers, .. filters]);
            Assert.True(result.ExitCode == 0, result.ToString());
            return [.. result.Lines.Order(StringComparer.Ordinal)];
        }

        Assert.Equal(6, (await Tail()).Count);
        Assert.Contains("2026-11-21T10:00:00Z web-1 sshd[42] err: Failed password for root from 203.0.113.9 port 4711 ssh2", await Tail("--host", "web-1", "--app", "sshd"));
        Assert.Equal(["2026-11-21T10:00:05Z db-1 cron debug: job 12 done\\nsecond line"], await Tail("--app", "cron"));
        Assert.Equal(4, (await Tail("--host", "web-*")).Count);
        // "warning" means warning or worse, as syslog selectors do; "=info" exactly info.
        Assert.Equal(["crit", "err", "warning"], (await Tail("--severity", "warning")).Select(Severity).Order(StringComparer.Ordinal));
        Assert.Equal(["err", "info", "info"], (await Tail("--severity", "=info,=err")).Select(Severity).Order(StringComparer.Ordinal));
        Assert.Equal(["web-2"], (await Tail("--text", "TIMED OUT")).Select(Host));
        Assert.Equal(["web-1"], (await Tail("--regex", @"from \d+\.\d+\.\d+\.\d+ port")).Select(Host));
        Assert.Single(await Tail("--host", "web-2", "--severity", "warning"));
        Assert.Equal(2, (await OpsTool.RunAsync("tail", "--topics", "syslog", "--from", "earliest", "--max", "2", "--kafka", kafka.BootstrapServers)).Lines.Count);

        var badSeverity = await OpsTool.RunAsync("tail", "--severity", "loud", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Usage, badSeverity.ExitCode);
        var badRegex = await OpsTool.RunAsync("tail", "--regex", "(", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Usage, badRegex.ExitCode);
    }

    private static string Host(string line) => line.Split(' ')[1];

    private static string Severity(string line) => line.Split(' ')[3].TrimEnd(':');
}
