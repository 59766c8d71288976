using System.Diagnostics;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using Pipeline.Client;
using Pipeline.Client.Logging;

namespace Pipeline.Bench;

internal static partial class BenchLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} paid by {Customer}")]
    public static partial void OrderPaid(ILogger logger, int orderId, string customer);
}

/// <summary>
/// <c>client</c>: what one log call costs the application's thread (BenchmarkDotNet: ns and bytes allocated), through
/// Pipeline.Client, Microsoft's console logger and the OpenTelemetry OTLP log exporter, in the same run; then the
/// latency of log calls paced like a busy service, while the receiver is up, stopped, and back.
/// </summary>
internal static class ClientBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = BenchSupport.Repository();
        var output = BenchSupport.ArgText(args, "--out") ?? Path.Combine(root, "bench", "results", $"client-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
        var iterations = BenchSupport.Arg(args, "--iterations", 15);
        var perSecond = BenchSupport.Arg(args, "--rate", 20_000);
        var phaseSeconds = BenchSupport.Arg(args, "--phase-seconds", 5);

        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(5).WithIterationCount(iterations))
            .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableLogFile)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "pipeline-bench-client"));
        var summary = BenchmarkRunner.Run<LogCallBench>(config);

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"One log call, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, BenchmarkDotNet in process, {iterations} iterations; load average before: {LoadAverage()}.");
        text.AppendLine("Each logger sends to a local receiver that takes everything (Pipeline.Client: WebSocket stream; OTLP: protobuf over HTTP; console: stderr into a null writer).");
        text.AppendLine();
        text.AppendLine("| logger | ns per call | ± | bytes allocated per call | ratio to OTLP exporter |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        var baseline = summary.Reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.Baseline)?.ResultStatistics?.Mean;
        foreach (var report in summary.Reports)
        {
            var stats = report.ResultStatistics;
            var allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\'')} | {stats?.Mean:N0} | {stats?.StandardError:N0} | {allocated:N0} | {(stats is null || baseline is null ? "" : (stats.Mean / baseline.Value).ToString("F2", CultureInfo.InvariantCulture))} |");
        }
        text.AppendLine();
        text.AppendLine(await OutageLatencyAsync(perSecond, phaseSeconds));
        var report2 = text.ToString();
        Console.WriteLine(report2);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report2);
        Console.WriteLine($"[bench] written to {output}");
        return 0;
    }

    /// <summary>
    /// Log calls paced at <paramref name="perSecond"/> on one thread for a phase each: receiver up, receiver stopped,
    /// receiver back. Every call is timed; the table gives percentiles per logger and phase, and what was dropped.
    /// </summary>
    private static async Task<string> OutageLatencyAsync(int perSecond, int phaseSeconds)
    {
        var port = BenchSupport.FreePort();
        var receiver = await ClientReceiver.StartAsync(port);
        await using var client = new PipelineClient(new PipelineClientOptions { Endpoint = receiver.Url, RetryMaxDelay = TimeSpan.FromSeconds(1) });
        using var pipelineLogging = LoggerFactory.Create(b => b.AddProvider(new PipelineLoggerProvider(client)));
        using var otlpLogging = LoggerFactory.Create(b => b.AddOpenTelemetry(o => o.AddOtlpExporter(e =>
        {
            e.Endpoint = new Uri(receiver.Url, "/v1/logs");
            e.Protocol = OtlpExportProtocol.HttpProtobuf;
        })));
        var loggers = new[] { ("Pipeline.Client", pipelineLogging.CreateLogger("Shop")), ("OpenTelemetry OTLP", otlpLogging.CreateLogger("Shop")) };

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Log call latency on the application's thread, {perSecond:N0} calls/s for {phaseSeconds} s a phase and a logger, one thread; the receiver stopped for the middle phase:");
        text.AppendLine();
        text.AppendLine("| logger | phase | calls | p50 µs | p99 µs | p99.9 µs | max µs |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var phase in new[] { "receiver up", "receiver stopped", "receiver back" })
        {
            if (phase == "receiver stopped") await receiver.DisposeAsync();
            if (phase == "receiver back") receiver = await ClientReceiver.StartAsync(port);
            foreach (var (name, logger) in loggers)
            {
                var calls = Paced(logger, perSecond, TimeSpan.FromSeconds(phaseSeconds));
                calls.Sort();
                double At(double p) => calls[Math.Min(calls.Count - 1, (int)(p * calls.Count))];
                text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {phase} | {calls.Count:N0} | {At(0.5):F2} | {At(0.99):F2} | {At(0.999):F2} | {calls[^1]:F0} |");
            }
        }
        var flushed = await client.FlushAsync(TimeSpan.FromSeconds(30));
        await receiver.DisposeAsync();
        var stats = client.Stats;
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Pipeline.Client afterwards: {stats.Queued:N0} queued, {stats.Stored:N0} stored by the receiver, {stats.Resent:N0} resent, {stats.DroppedTotal:N0} dropped (queue full: {stats.Dropped[DropReason.QueueFull]:N0}); everything flushed: {flushed}.");
        return text.ToString();
    }

    private static List<double> Paced(ILogger logger, int perSecond, TimeSpan duration)
    {
        var calls = new List<double>((int)(perSecond * duration.TotalSeconds));
        var clock = Stopwatch.StartNew();
        var n = 0;
        while (clock.Elapsed < duration)
        {
            var due = TimeSpan.FromSeconds((double)n / perSecond);
            while (clock.Elapsed < due) Thread.SpinWait(20);
            var started = Stopwatch.GetTimestamp();
            BenchLog.OrderPaid(logger, n, "acme");
            calls.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            n++;
        }
        return calls;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

/// <summary>One log call (a source-generated <c>LoggerMessage</c> with two values) through each logger.</summary>
[MemoryDiagnoser]
public class LogCallBench
{
    private ClientReceiver _receiver = null!;
    private PipelineClient _client = null!;
    private ILoggerFactory _pipelineFactory = null!;
    private ILoggerFactory _consoleFactory = null!;
    private ILoggerFactory _otlpFactory = null!;
    private ILoggerFactory _otlpFormattedFactory = null!;
    private ILogger _pipeline = null!;
    private ILogger _console = null!;
    private ILogger _otlp = null!;
    private ILogger _otlpFormatted = null!;
    private TextWriter _stderr = null!;
    private int _n;

    [GlobalSetup]
    public void Setup()
    {
        // The console logger takes its writer when it is made: stderr, pointed at nothing, so the benchmark's own output stays readable.
        _stderr = Console.Error;
        Console.SetError(TextWriter.Null);
        _receiver = ClientReceiver.StartAsync(BenchSupport.FreePort()).GetAwaiter().GetResult();
        _client = new PipelineClient(new PipelineClientOptions { Endpoint = _receiver.Url });
        _pipelineFactory = LoggerFactory.Create(b => b.AddProvider(new PipelineLoggerProvider(_client)));
        _consoleFactory = LoggerFactory.Create(b => b.AddConsole(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            // Like the others, a full queue drops rather than makes the caller wait.
            o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
        }));
        _otlpFactory = OtlpFactory(formatted: false);
        _otlpFormattedFactory = OtlpFactory(formatted: true);
        _pipeline = _pipelineFactory.CreateLogger("Shop");
        _console = _consoleFactory.CreateLogger("Shop");
        _otlp = _otlpFactory.CreateLogger("Shop");
        _otlpFormatted = _otlpFormattedFactory.CreateLogger("Shop");
    }

    private ILoggerFactory OtlpFactory(bool formatted) => LoggerFactory.Create(b => b.AddOpenTelemetry(o =>
    {
        o.IncludeFormattedMessage = formatted;
        o.AddOtlpExporter(e =>
        {
            e.Endpoint = new Uri(_receiver.Url, "/v1/logs");
            e.Protocol = OtlpExportProtocol.HttpProtobuf;
        });
    }));

    [GlobalCleanup]
    public void Cleanup()
    {
        _pipelineFactory.Dispose();
        _client.Dispose();
        _consoleFactory.Dispose();
        _otlpFactory.Dispose();
        _otlpFormattedFactory.Dispose();
        _receiver.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.SetError(_stderr);
    }

    [Benchmark(Description = "Pipeline.Client")]
    public void PipelineClient() => BenchLog.OrderPaid(_pipeline, ++_n, "acme");

    [Benchmark(Baseline = true, Description = "OpenTelemetry OTLP exporter")]
    public void OpenTelemetryOtlp() => BenchLog.OrderPaid(_otlp, ++_n, "acme");

    [Benchmark(Description = "OpenTelemetry OTLP exporter, formatted message")]
    public void OpenTelemetryOtlpFormatted() => BenchLog.OrderPaid(_otlpFormatted, ++_n, "acme");

    [Benchmark(Description = "Microsoft console logger")]
    public void ConsoleLogger() => BenchLog.OrderPaid(_console, ++_n, "acme");
}
