using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.Bench;

/// <summary>
/// <c>parse</c>: what reading a syslog line costs on the edge's hot path, in nanoseconds and bytes allocated per
/// line, for parsing alone and for parsing plus writing the envelope. Three line sets: the parser conformance
/// corpus (every input, valid or not), the RFC 5424 line the TCP benchmark sends, and the verbatim rsyslog and
/// syslog-ng captures of the unit tests. Single-threaded; each figure is the median of several rounds, timed by the
/// thread's own CPU clock (CLOCK_THREAD_CPUTIME_ID), which other work on a shared machine disturbs far less than the
/// wall clock.
/// </summary>
internal static partial class ParseBench
{
    private const int ClockThreadCpuTime = 3;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static long ThreadCpuNanoseconds()
    {
        ClockGetTime(ClockThreadCpuTime, out var t);
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }

    public static int Run(string[] args)
    {
        var linesPerRound = BenchSupport.Arg(args, "--lines", 2_000_000);
        var rounds = BenchSupport.Arg(args, "--rounds", 7);
        var root = BenchSupport.Repository();
        var sets = new (string Name, byte[][] Lines)[]
        {
            ("corpus (all inputs)", CorpusLines(Path.Combine(root, "tests", "Pipeline.UnitTests", "Data", "SyslogCorpus", "cases.jsonl"))),
            ("rfc5424 bench line", Enumerable.Range(0, 1000).Select(n => Encoding.ASCII.GetBytes(LoadSenders.Line(n))).ToArray()),
            ("rsyslog/syslog-ng captures", CapturedLines(Path.Combine(root, "tests", "Pipeline.UnitTests", "Data", "Syslog"))),
        };

        var origin = new IngestOrigin(new ListenerMarkup("bench", "tcp", "bench", new Dictionary<string, string>(), null),
            new IPEndPoint(IPAddress.Loopback, 514), null);
        var receivedAt = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        var context = new SyslogParseContext(receivedAt, IPAddress.Loopback, UtcTimeZoneResolver.Instance);

        Console.WriteLine($"Syslog parse cost, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {rounds} rounds of {linesPerRound:N0} lines, median thread CPU time.");
        Console.WriteLine();
        Console.WriteLine("| set | lines | parse ns/line | parse B/line | parse+envelope ns/line | parse+envelope B/line |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, lines) in sets)
        {
            var parse = Measure(lines, linesPerRound, rounds, line => Consume(SyslogParser.Parse(line, context)));
            var envelope = Measure(lines, linesPerRound, rounds, line =>
            {
                var message = SyslogParser.Parse(line, context);
                return EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(receivedAt, EventKinds.Log, origin, 1), line, message).Length;
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {lines.Length:N0} | {parse.Nanoseconds:F0} | {parse.Bytes:F1} | {envelope.Nanoseconds:F0} | {envelope.Bytes:F1} |"));
        }
        return 0;
    }

    private delegate int LineWork(ReadOnlySpan<byte> line);

    private static (double Nanoseconds, double Bytes) Measure(byte[][] lines, int linesPerRound, int rounds, LineWork work)
    {
        // Warm-up: let tiered compilation reach the optimised code before anything is timed.
        var sink = 0;
        for (var i = 0; i < 200_000; i++) sink += work(lines[i % lines.Length]);
        var nanoseconds = new double[rounds];
        var bytes = new double[rounds];
        for (var r = 0; r < rounds; r++)
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var cpu = ThreadCpuNanoseconds();
            for (var i = 0; i < linesPerRound; i++) sink += work(lines[i % lines.Length]);
            nanoseconds[r] = (double)(ThreadCpuNanoseconds() - cpu) / linesPerRound;
            bytes[r] = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / linesPerRound;
        }
        GC.KeepAlive(sink);
        Array.Sort(nanoseconds);
        Array.Sort(bytes);
        return (nanoseconds[rounds / 2], bytes[rounds / 2]);
    }

    private static int Consume(in SyslogMessage m) => m.Message.Length + m.Hostname.Length + (int)m.Status;

    private static byte[][] CorpusLines(string path) =>
        File.ReadLines(path)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Select(c => c.GetProperty("input").ValueKind == JsonValueKind.String
                ? Encoding.UTF8.GetBytes(c.GetProperty("input").GetString()!)
                : Convert.FromHexString(c.GetProperty("input_hex").GetString()!))
            .ToArray();

    private static byte[][] CapturedLines(string directory) =>
        Directory.GetFiles(directory, "*.txt")
            .SelectMany(File.ReadLines)
            .Where(line => line.StartsWith('<'))
            .Select(Encoding.UTF8.GetBytes)
            .ToArray();
}
