using Pipeline.Testing;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Dapper;
using Npgsql;
using Pipeline.Core.Envelope;
using Pipeline.Core.Ids;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Kafka.Embedded;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A fixed telemetry stream for the aggregator's process tests, produced as v1 envelopes keyed by host:
/// 120,000 syslog events over three minutes of a past hour (so every window is closed by the time the
/// stream is read, without waiting for the clock), Zipf-distributed hosts and source addresses, a handful of
/// message templates, one event in five sampled 1 in 4. The same seed gives the same stream, and the exact
/// weighted counts of every dimension are kept to check answers against.
/// </summary>
internal sealed class TopKStream
{
    public const int Events = 120_000;
    public const int Partitions = 4;
    public const int Capacity = 200;
    public static readonly string[] Dimensions = ["host", "app", "severity", "source_ip", "template", "tenant"];

    private static readonly string[] Apps = ["sshd", "kernel", "nginx", "postfix", "cron", "sudo"];
    private static readonly string[] Severities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
    private static readonly string?[] Tenants = ["acme", "globex", "initech", null];
    private static readonly string[] Formats =
    [
        "Failed password for root from {ip} port {n} ssh2",
        "Failed password for invalid user admin from {ip} port {n} ssh2",
        "Accepted publickey for deploy from {ip} port {n} ssh2",
        "DROP IN=eth0 OUT= SRC={ip} DST=10.0.0.1 LEN={n} PROTO=TCP",
        "connect from unknown[{ip}]",
        "[client {ip}:{n}] AH01630: client denied by server configuration",
        "pam_unix(sshd:auth): authentication failure; rhost={ip} user=root",
        "session {id} opened for user bob",
    ];

    private readonly List<(byte[] Key, byte[] Value)> _messages = [];

    public TopKStream(int seed = 20250314)
    {
        // Two hours back, ten minutes into the hour: the minute windows and their hour are long closed on the clock.
        var now = DateTimeOffset.UtcNow;
        Start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-2).AddMinutes(10);
        var random = new Random(seed);
        var hosts = new Zipf(3000, 1.1, random.Next());
        var ips = new Zipf(500, 1.2, random.Next());
        for (var i = 0; i < Events; i++)
        {
            var at = Start + TimeSpan.FromTicks(TimeSpan.FromMinutes(3).Ticks / Events * i);
            var host = "host-" + hosts.Next().ToString("D4", CultureInfo.InvariantCulture);
            var app = Apps[Math.Min(Apps.Length - 1, (int)(random.NextDouble() * random.NextDouble() * Apps.Length))];
            var severity = Math.Min(7, (int)(random.NextDouble() * 8));
            var ip = $"203.0.113.{ips.Next() % 250}";
            var format = Formats[random.Next(Formats.Length)];
            var message = format.Replace("{ip}", ip, StringComparison.Ordinal)
                .Replace("{n}", random.Next(1024, 65535).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{id}", $"{random.Next():x8}-{random.Next(65536):x4}", StringComparison.Ordinal);
            var tenant = Tenants[random.Next(Tenants.Length)];
            var sampleRate = i % 5 == 0 ? 4 : 1;
            var value = EnvelopeCodec.Encode(new TelemetryEvent
            {
                Id = Ulid.NewString(at),
                ReceivedAt = at,
                Kind = EventKinds.Log,
                Source = new EventSource { Transport = "udp", Ip = "192.0.2.1", Port = 514, Edge = "edge-test" },
                Tenant = tenant,
                SampleRate = sampleRate,
                Syslog = new SyslogFields { Facility = 4, Severity = severity, Hostname = host, AppName = app, Rfc = "5424" },
                Message = message,
                ParseStatus = "ok",
            });
            _messages.Add((Encoding.UTF8.GetBytes(host), value));
            foreach (var window in new[] { MinuteOf(at), "1h" })
            {
                Add(window, "host", host, sampleRate);
                Add(window, "app", app, sampleRate);
                Add(window, "severity", Severities[severity], sampleRate);
                if (format.Contains("{ip}", StringComparison.Ordinal)) Add(window, "source_ip", ip, sampleRate);
                if (tenant is not null) Add(window, "tenant", tenant, sampleRate);
                Add(window, "*", "*", sampleRate);
            }
        }
    }

    /// <summary>The first event's time (the start of the first minute window).</summary>
    public DateTimeOffset Start { get; }

    /// <summary>Exact weighted counts by (window, dimension, key); window is <c>1m@N</c> (N-th minute) or <c>1h</c>.</summary>
    public Dictionary<(string Window, string Dimension, string Key), long> Exact { get; } = [];

    /// <summary>The windows every run is asked about: (size, a time inside it, label).</summary>
    public IEnumerable<(string Size, DateTimeOffset At, string Label)> Windows =>
        [.. Enumerable.Range(0, 3).Select(m => ("1m", Start.AddMinutes(m), $"1m@{m}")), ("1h", Start, "1h")];

    private string MinuteOf(DateTimeOffset at) => "1m@" + (int)((at - Start).TotalMinutes);

    private void Add(string window, string dimension, string key, long weight) =>
        Exact[(window, dimension, key)] = Exact.GetValueOrDefault((window, dimension, key)) + weight;

    /// <summary>Produces the whole stream (idempotent producer, keyed by host) and waits for every acknowledgement.</summary>
    public void ProduceTo(string bootstrapServers, string topic)
    {
        using var producer = new StreamProducer(bootstrapServers);
        foreach (var (key, value) in _messages) producer.Send(topic, new Message<byte[]?, byte[]> { Key = key, Value = value });
        producer.Complete();
    }
}

/// <summary>Starts aggregator processes against one stream and reads what they stored and answer.</summary>
internal static class Aggregators
{
    public static readonly TimeSpan Done = TimeSpan.FromSeconds(90);

    public static Task<PipelineProcess> StartAsync(PipelineUnderTest pipeline, TemporaryDatabase db, string group, string topic, string publishTopic,
        int batchSize = 2000, bool waitHealthy = true, TimeSpan? idle = null) =>
        pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.TopK",
            [
                "--topics", topic, "--group", group, "--postgres", db.ConnectionString,
                "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture), "--batch-wait", "00:00:00.200",
                "--capacity", TopKStream.Capacity.ToString(CultureInfo.InvariantCulture), "--dimensions", string.Join(",", TopKStream.Dimensions),
                // The product's idle timeout (10 s): a partition assigned before its first record arrives must not be
                // taken as caught up while a busy machine is still producing the stream.
                "--lateness", "00:00:05", "--idle", (idle ?? TimeSpan.FromSeconds(10)).ToString("c", CultureInfo.InvariantCulture), "--publish-topic", publishTopic,
            ],
            new Dictionary<string, string>
            {
                // A killed member's partitions move after the session timeout: keep it short so tests do not wait long.
                ["Consumer__SessionTimeout"] = "00:00:06",
                ["Consumer__DrainTimeout"] = "00:00:03",
                ["TopK__CloseInterval"] = "00:00:00.500",
                // Short as the other intervals here: the test stream (seconds long) spans many checkpoints, each storing
                // several batches, so a SIGKILL lands with batches counted and not yet stored.
                ["TopK__CheckpointInterval"] = "00:00:00.100",
                ["TopK__PublishTop"] = TopKStream.Capacity.ToString(CultureInfo.InvariantCulture),
            },
            waitHealthy);

    /// <summary>Sum of the group's stored next offsets: how many records its checkpoints cover.</summary>
    public static async Task<long> CheckpointedAsync(TemporaryDatabase db, string group)
    {
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        try
        {
            return await connection.ExecuteScalarAsync<long>("select coalesce(sum(next_offset), 0)::bigint from consumer_offsets where group_id = @group", new { group });
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    /// <summary>Waits until the whole stream is checkpointed and every window is closed and published.</summary>
    public static async Task WaitDoneAsync(TemporaryDatabase db, string group, params PipelineProcess[] processes)
    {
        try
        {
            await Eventually.Until(() => CheckpointedAsync(db, group), n => n == TopKStream.Events, Done, "whole stream checkpointed");
            await Eventually.Until(async () =>
            {
                await using var connection = new NpgsqlConnection(db.ConnectionString);
                return await connection.QuerySingleAsync<(long Rows, long Open, long Unpublished)>("""
                    select count(*), count(*) filter (where closed_at is null), count(*) filter (where published_at is null)
                    from topk_windows where group_id = @group
                    """, new { group });
            }, s => s.Rows > 0 && s.Open == 0 && s.Unpublished == 0, Done, "every window closed and published");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + "\n" + string.Join("\n----\n", processes.Select(p => p.Output)), ex);
        }
    }

    /// <summary>Every answer of <c>GET /topk</c> for the stream's windows and dimensions, without the group name (runs use different groups).</summary>
    public static async Task<Dictionary<string, JsonObject>> AnswersAsync(PipelineProcess process, TopKStream stream)
    {
        var answers = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (size, at, label) in stream.Windows)
            foreach (var dimension in TopKStream.Dimensions)
            {
                var json = await process.GetAsync($"/topk?dimension={dimension}&window={size}&k={TopKStream.Capacity}&at={at.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}");
                var answer = JsonNode.Parse(json)!.AsObject();
                answer.Remove("group");
                answers[$"{label}/{dimension}"] = answer;
            }
        return answers;
    }

    public static string Text(Dictionary<string, JsonObject> answers) =>
        string.Join("\n", answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Key + " " + a.Value.ToJsonString()));
}
