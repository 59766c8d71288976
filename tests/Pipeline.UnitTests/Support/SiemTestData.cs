using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Pipeline.Consumers.Siem;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Support;

/// <summary>Envelopes, records, the shipped rules and a clock the SIEM tests share.</summary>
internal static partial class SiemTestData
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 12, 9, 58, 0, TimeSpan.Zero);

    public static string RepoRoot { get; } = FindRoot();

    /// <summary>The options of the shipped appsettings.json: the tests exercise the rules people run.</summary>
    public static SiemOptions ShippedOptions()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepoRoot, "consumers", "Pipeline.Consumers.Siem", "appsettings.json"))
            .Build();
        var options = configuration.GetSection(SiemOptions.Section).Get<SiemOptions>()!;
        options.Validate();
        return options;
    }

    public static TelemetryEvent Syslog(string app, string message, string host = "bastion01", DateTimeOffset? time = null, string? pid = "4242",
        string senderIp = "10.20.30.40", int facility = 10, int severity = 6, string? id = null)
    {
        var at = time ?? T0;
        var header = string.Create(CultureInfo.InvariantCulture, $"<{facility * 8 + severity}>{at:MMM d HH:mm:ss} {host} {app}{(pid is null ? "" : $"[{pid}]")}: ");
        return new TelemetryEvent
        {
            Id = id ?? Pipeline.Core.Ids.Ulid.NewString(at),
            ReceivedAt = at.AddMilliseconds(250),
            Kind = EventKinds.Log,
            Source = new EventSource { Transport = "tcp", Ip = senderIp, Port = 51514, Edge = "edge-1" },
            Syslog = new SyslogFields { Facility = facility, Severity = severity, Timestamp = at, Hostname = host, AppName = app, Procid = pid, Rfc = "3164" },
            Message = message,
            Raw = header + message,
            ParseStatus = "ok",
        };
    }

    public static ConsumedRecord Record(TelemetryEvent e, long offset, string topic = "syslog", int partition = 0) =>
        new(topic, partition, offset, null, EnvelopeCodec.Encode(e), e.ReceivedAt);

    /// <summary>auth.log lines (<c>Mar 12 09:58:02 host app[pid]: message</c>) as envelopes, as an edge would publish them.</summary>
    public static List<TelemetryEvent> AuthLog(string path, int year = 2025)
    {
        var events = new List<TelemetryEvent>();
        foreach (var line in File.ReadLines(path))
        {
            var m = AuthLine().Match(line);
            if (!m.Success) throw new FormatException("not an auth.log line: " + line);
            var time = DateTime.ParseExact($"{year} {m.Groups["time"].Value}", "yyyy MMM d HH:mm:ss", CultureInfo.InvariantCulture);
            var pid = m.Groups["pid"].Success ? m.Groups["pid"].Value : null;
            events.Add(Syslog(m.Groups["app"].Value, m.Groups["msg"].Value, m.Groups["host"].Value, new DateTimeOffset(time, TimeSpan.Zero), pid,
                id: Pipeline.Core.Ids.Ulid.NewString(new DateTimeOffset(time, TimeSpan.Zero))));
        }
        return events;
    }

    public static string AuthLogSample => Path.Combine(RepoRoot, "tests", "Pipeline.IntegrationTests", "Data", "siem", "auth.log");

    [GeneratedRegex(@"^(?<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?<host>\S+) (?<app>[^\[:\s]+)(?:\[(?<pid>\d+)\])?: (?<msg>.*)$")]
    private static partial Regex AuthLine();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Pipeline.sln not found");
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>A temporary folder, deleted afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "siem-test-" + Guid.NewGuid().ToString("N")[..12]);

    public TempDir() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
