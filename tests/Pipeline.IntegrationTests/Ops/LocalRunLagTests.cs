using System.Diagnostics;
using System.Globalization;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Ops;

/// <summary>
/// <c>local</c> run as a user runs it (the whole pipeline, every worker with its default group), then
/// <c>lag</c> as a user runs it: <c>source .pipeline/local.env</c> and no other flag.
/// </summary>
public sealed class LocalRunLagTests(ITestOutputHelper output)
{
    private const int Lines = 2_000;

    private static readonly Dictionary<string, string> OwnStores = new()
    {
        ["noc_team"] = "postgres",
        ["sec_team"] = "archive",
        ["topk"] = "postgres",
        ["files"] = "kafka",
    };

    [Fact]
    public async Task InALocalRunLagFindsEveryGroupsOwnStoreFromLocalEnvAndReportsZeroOnceWrittenAndKafkasCommittedOffsetsSayTheSame()
    {
        await using var database = await PostgresServer.Instance.CreateDatabaseAsync();
        var state = Directory.CreateTempSubdirectory("local-run-").FullName;
        var (syslog, http, workers) = (FreePort.Next(), FreePort.Next(), FreePort.Consecutive(4));
        var local = PipelineProcess.Start("infra/Pipeline.Ops",
            ["local", "--postgres", database.ConnectionString, "--state-dir", state, "--brokers", "1",
             "--syslog-port", Text(syslog), "--http-port", Text(http), "--worker-port-base", Text(workers)],
            healthUrl: $"http://127.0.0.1:{http}/healthz");
        try
        {
            await local.WaitHealthyAsync(TimeSpan.FromSeconds(90));
            // The edge as `local` starts it runs on jemalloc (installed by setup), as its container image does.
            var edgePid = EdgePid(syslog);
            Assert.Contains("libjemalloc.so.2", await File.ReadAllTextAsync($"/proc/{edgePid}/maps"), StringComparison.Ordinal);
            Assert.Contains($"MALLOC_CONF={Pipeline.Core.Hosting.JemallocPreload.Settings}", (await File.ReadAllTextAsync($"/proc/{edgePid}/environ")).Split('\0'));
            var envFile = Path.Combine(state, "local.env");
            await Eventually.True(() => File.Exists(envFile), TimeSpan.FromSeconds(60), "local.env written");
            Assert.Contains("PIPELINE_SIEM_ARCHIVE=", await File.ReadAllTextAsync(envFile), StringComparison.Ordinal);

            var file = Path.Combine(state, "lines.txt");
            await File.WriteAllLinesAsync(file, Enumerable.Range(0, Lines).Select(i => $"local run line {i:D4}"));
            await Peers.RunAsync("logger", ["--tcp", "--octet-count", "--server", "127.0.0.1", "--port", Text(syslog), "--rfc5424", "-t", "lagcheck", "-f", file]);
            await Eventually.Until(() => database.CountAsync("events"), n => n >= Lines, TimeSpan.FromMinutes(2), "rows in events");

            // Every group, each from its own store: 0 once its sink has written the 2,000 lines.
            var own = await Eventually.Until(() => LagAsync(state), r => r.ExitCode == 0, TimeSpan.FromMinutes(1), "every group's lag at 0");
            output.WriteLine(own.Output);
            foreach (var (group, store) in OwnStores)
            {
                var total = Total(own, group);
                Assert.True(total is ["0", _], $"{group}: {string.Join(" ", total)}\n{own.Output}");
                Assert.Equal(store, total[1]);
                Assert.All(Rows(own, group), row => Assert.Equal(store, row[^1]));
            }
            Assert.Contains("positions of sec_team: SIEM archive checkpoint", own.Output, StringComparison.Ordinal);
            Assert.Contains("positions of noc_team: consumer_offsets", own.Output, StringComparison.Ordinal);
            Assert.Equal(Lines, Rows(own, "noc_team").Sum(r => long.Parse(r[4], CultureInfo.InvariantCulture)));

            // Kafka's committed offsets, which every Kafka tool reads, say the same within a couple of seconds.
            var kafka = await Eventually.Until(() => LagAsync(state, "--store", "kafka"), r => r.ExitCode == 0, TimeSpan.FromSeconds(2),
                "every group's Kafka committed offsets at the end", TimeSpan.FromMilliseconds(100));
            output.WriteLine(kafka.Output);
            foreach (var group in OwnStores.Keys) Assert.Equal(["0", "kafka"], Total(kafka, group));
        }
        finally
        {
            await local.StopAsync(TimeSpan.FromSeconds(60));
            await local.DisposeAsync();
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>The edge process `local` started: the one whose command line binds syslog to <paramref name="syslogPort"/>.</summary>
    private static int EdgePid(int syslogPort)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string[] args;
            try
            {
                args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            if (args.Any(a => a.EndsWith("Pipeline.Edge.dll", StringComparison.Ordinal)) && args.Contains($"127.0.0.1:{syslogPort}")) return pid;
        }
        throw new InvalidOperationException($"no edge process with syslog on port {syslogPort}");
    }

    /// <summary>Runs <c>source local.env; infra/ops.sh lag --interval 0 --threshold 0 …</c> in bash from the repository root, as a user would.</summary>
    private static async Task<(int ExitCode, string Output)> LagAsync(string state, params string[] extra)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repository.Root };
        foreach (var arg in new[] { "-c", "source \"$1\" && shift && exec infra/ops.sh lag --interval 0 --threshold 0 \"$@\"", "lag", Path.Combine(state, "local.env") }.Concat(extra))
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The LAG and STORE columns of a group's total line.</summary>
    private static string[] Total((int ExitCode, string Output) lag, string group) =>
        Columns(lag).Where(c => c[0] == group && c[1] == "total").Select(c => new[] { c[3], c[^1] }).Single();

    /// <summary>A group's partition rows, split in columns (GROUP TOPIC PARTITION POSITION END LAG AGE CLOSING/S ETA STORE).</summary>
    private static List<string[]> Rows((int ExitCode, string Output) lag, string group) =>
        Columns(lag).Where(c => c[0] == group && c[1] != "total" && c.Length == 10).ToList();

    private static IEnumerable<string[]> Columns((int ExitCode, string Output) lag) =>
        lag.Output.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(c => c.Length >= 4);

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
