using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Pipeline.Core;
using Pipeline.Core.Envelope;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>One record of a SIEM archive, as a test reads it straight from the segment files.</summary>
internal sealed record ArchiveLine(string Segment, int Line, long Seq, string Type, string Hash, string? Topic, int Partition, long Offset, JsonElement Doc)
{
    public string Id => Doc.GetProperty("event").GetProperty("id").GetString()!;

    public string? Field(string path)
    {
        var value = Doc;
        foreach (var part in path.Split('.'))
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Array => value.GetArrayLength() > 0 ? value[0].ToString() : null,
            _ => value.GetRawText(),
        };
    }
}

/// <summary>A SIEM archive folder seen from outside: its records, checkpoint and cursors, read without the product's code.</summary>
internal sealed class SiemArchive(string directory)
{
    public string Directory { get; } = directory;

    public static SiemArchive NewTemporary() =>
        new(Path.Combine(Path.GetTempPath(), "siem-archive-" + Guid.NewGuid().ToString("N")[..10]));

    /// <summary>Records committed so far (the checkpoint's seq), 0 before the first commit.</summary>
    public long CommittedSeq => ReadSeq(Path.Combine(Directory, "checkpoint.json"));

    /// <summary>Seq a forwarder has confirmed up to.</summary>
    public long CursorSeq(string forwarder) => ReadSeq(Path.Combine(Directory, "cursors", forwarder + ".json"));

    public List<ArchiveLine> Records()
    {
        var records = new List<ArchiveLine>();
        if (!System.IO.Directory.Exists(Directory)) return records;
        foreach (var path in System.IO.Directory.GetFiles(Directory, "segment-*.ndjson").Order(StringComparer.Ordinal))
        {
            var number = 0;
            foreach (var line in ReadShared(path))
            {
                number++;
                if (!line.EndsWith('}')) continue;
                using var json = JsonDocument.Parse(line);
                var r = json.RootElement;
                records.Add(new ArchiveLine(Path.GetFileName(path), number, r.GetProperty("seq").GetInt64(), r.GetProperty("type").GetString()!,
                    r.GetProperty("hash").GetString()!, r.TryGetProperty("topic", out var t) ? t.GetString() : null,
                    r.TryGetProperty("partition", out var p) ? p.GetInt32() : -1, r.TryGetProperty("offset", out var o) ? o.GetInt64() : -1,
                    r.GetProperty("doc").Clone()));
            }
        }
        return records;
    }

    public static IEnumerable<string> ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line) yield return line;
    }

    private static long ReadSeq(string path)
    {
        if (!File.Exists(path)) return 0;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            return json.RootElement.GetProperty("seq").GetInt64();
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            return 0;
        }
    }

    /// <summary>Runs <c>Pipeline.Consumers.Siem verify</c> as a process; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> VerifyAsync(string? directory = null)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Repository.Executable("consumers/Pipeline.Consumers.Siem"));
        info.ArgumentList.Add("verify");
        info.ArgumentList.Add(directory ?? Directory);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await output + await error);
    }

    public void Delete()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Test envelopes, produced straight to Kafka as the edge would publish them.</summary>
internal static partial class TestEnvelopes
{
    public static TelemetryEvent Syslog(string app, string message, DateTimeOffset time, string host = "bastion01", string? pid = "4242",
        string senderIp = "10.20.30.40", int facility = 10, int severity = 6) => new()
        {
            Id = Pipeline.Core.Ids.Ulid.NewString(time),
            ReceivedAt = time.AddMilliseconds(250),
            Kind = EventKinds.Log,
            Source = new EventSource { Transport = "tcp", Ip = senderIp, Port = 51514, Edge = "edge-1" },
            Syslog = new SyslogFields { Facility = facility, Severity = severity, Timestamp = time, Hostname = host, AppName = app, Procid = pid, Rfc = "3164" },
            Message = message,
            Raw = string.Create(CultureInfo.InvariantCulture, $"<{facility * 8 + severity}>{time:MMM d HH:mm:ss} {host} {app}{(pid is null ? "" : $"[{pid}]")}: {message}"),
            ParseStatus = "ok",
        };

    /// <summary>auth.log lines (<c>Mar 12 09:58:02 host app[pid]: message</c>) as envelopes with their own times.</summary>
    public static List<TelemetryEvent> AuthLog(string path, int year = 2025) =>
        File.ReadLines(path).Select(line =>
        {
            var m = AuthLine().Match(line);
            if (!m.Success) throw new FormatException("not an auth.log line: " + line);
            var time = new DateTimeOffset(DateTime.ParseExact($"{year} {m.Groups["time"].Value}", "yyyy MMM d HH:mm:ss", CultureInfo.InvariantCulture), TimeSpan.Zero);
            return Syslog(m.Groups["app"].Value, m.Groups["msg"].Value, time, m.Groups["host"].Value, m.Groups["pid"].Success ? m.Groups["pid"].Value : null);
        }).ToList();

    /// <summary>Produces envelopes (idempotent, acks=all) and waits until Kafka has them all.</summary>
    public static void Produce(string bootstrapServers, string topic, IEnumerable<TelemetryEvent> events, Func<TelemetryEvent, string>? key = null)
    {
        using var producer = new StreamProducer(bootstrapServers);
        foreach (var e in events)
        {
            producer.Send(topic, new Message<byte[]?, byte[]>
            {
                Key = System.Text.Encoding.UTF8.GetBytes(key?.Invoke(e) ?? e.Syslog?.Hostname ?? e.Id),
                Value = EnvelopeCodec.Encode(e),
                Headers = new Headers { { KafkaHeaders.Schema, "1"u8.ToArray() }, { KafkaHeaders.ContentType, "application/json"u8.ToArray() } },
            });
        }
        producer.Complete();
    }

    /// <summary>Messages a topic holds now, by watermarks (never by consuming: the mock's retention would undercount).</summary>
    public static long Count(string bootstrapServers, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "count-" + Guid.NewGuid().ToString("N") }).Build();
        long total = 0;
        for (var p = 0; p < partitions; p++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            total += marks.High.Value - marks.Low.Value;
        }
        return total;
    }

    /// <summary>Reads every message of a topic (small topics only).</summary>
    public static List<TelemetryEvent> ReadAll(string bootstrapServers, string topic, int expected, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "read-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var events = new List<TelemetryEvent>();
        var deadline = DateTime.UtcNow + timeout;
        while (events.Count < expected && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: { } m }) events.Add(EnvelopeCodec.Decode(m.Value));
        consumer.Close();
        return events;
    }

    [GeneratedRegex(@"^(?<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?<host>\S+) (?<app>[^\[:\s]+)(?:\[(?<pid>\d+)\])?: (?<msg>.*)$")]
    private static partial Regex AuthLine();
}
