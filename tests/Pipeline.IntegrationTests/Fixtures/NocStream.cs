using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Pipeline.Core;
using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A deterministic stream of v1 envelopes for the NOC sink's tests: event <c>i</c> can be rebuilt from its
/// id alone (the id's last 16 characters are <c>i</c>), so every row read back is checked field by field
/// without keeping the stream in memory. Receive times spread over <see cref="Span"/> from
/// <see cref="FirstDay"/>, so several day partitions exist.
/// </summary>
internal sealed class NocStream(int count, DateOnly firstDay, TimeSpan span)
{
    public const int StreamIds = 100;

    /// <summary>Three calendar days (the day before yesterday to today), so several day partitions exist.</summary>
    public NocStream(int count) : this(count, DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-2), TimeSpan.FromHours(60))
    {
    }

    public int Count { get; } = count;

    /// <summary>Characters appended to every message, to make the stream heavier (memory tests). Default none.</summary>
    public int Padding { get; init; }
    public DateOnly FirstDay { get; } = firstDay;
    public TimeSpan Span { get; } = span;

    /// <summary>Distinct UTC days the receive times fall on.</summary>
    public IReadOnlyList<DateOnly> Days =>
        Enumerable.Range(0, Count).Select(i => DateOnly.FromDateTime(ReceivedAt(i).UtcDateTime)).Distinct().Order().ToList();

    public DateTimeOffset ReceivedAt(int i)
    {
        var start = new DateTimeOffset(FirstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        // Whole milliseconds: the database keeps microseconds, the comparison must be exact.
        return start.AddMilliseconds(Math.Floor(Span.TotalMilliseconds * i / Count));
    }

    /// <summary>A ULID's time prefix (10 characters) followed by <c>i</c> in 16 digits: unique, sortable, and says which event it is.</summary>
    public string IdOf(int i) => TimePrefix(ReceivedAt(i)) + i.ToString("D16", CultureInfo.InvariantCulture);

    /// <summary>
    /// A ULID's first 10 characters: the millisecond time in Crockford base32. Written here rather than
    /// taken from <c>Ulid.NewString</c>, whose per-thread monotonic clock never goes back to an earlier time.
    /// </summary>
    private static string TimePrefix(DateTimeOffset time)
    {
        const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        var ms = (ulong)time.ToUnixTimeMilliseconds();
        Span<char> chars = stackalloc char[10];
        for (var k = 9; k >= 0; k--, ms >>= 5) chars[k] = Alphabet[(int)(ms & 31)];
        return new string(chars);
    }

    public static int IndexOf(string id) => int.Parse(id.AsSpan(10), CultureInfo.InvariantCulture);

    public static string HostOf(int i) => "noc-host-" + (i % 40).ToString("D2", CultureInfo.InvariantCulture);

    public TelemetryEvent Event(int i)
    {
        var receivedAt = ReceivedAt(i);
        var isEvent = i % 10 == 9;
        var e = new TelemetryEvent
        {
            Id = IdOf(i),
            ReceivedAt = receivedAt,
            Kind = isEvent ? EventKinds.Event : EventKinds.Log,
            Source = new EventSource
            {
                Transport = i % 3 == 0 ? "udp" : "tcp",
                Ip = i % 50 == 0
                    ? "2001:db8::" + (i % 65_000).ToString("x", CultureInfo.InvariantCulture)
                    : string.Create(CultureInfo.InvariantCulture, $"10.{i % 200}.{i / 200 % 250}.{i % 250}"),
                Port = 40_000 + i % 1000,
                Edge = "edge-" + (i % 2 == 0 ? "a" : "b"),
            },
            Tenant = i % 3 == 0 ? "acme" : null,
            SampleRate = i % 17 == 0 ? 10 : 1,
            Message = Message(i) + (Padding > 0 ? " " + new string('x', Padding) : ""),
            ParseStatus = i % 23 == 0 ? "partial" : "ok",
            Stream = i % 5 == 0
                ? new StreamInfo { Id = StreamId(i), Headers = new Dictionary<string, string> { ["user-agent"] = UserAgentOf(i / 5 % StreamIds) } }
                : null,
        };
        if (isEvent)
        {
            e.Payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["n"] = i, ["ok"] = i % 2 == 0, ["path"] = "/v1/things/" + i.ToString(CultureInfo.InvariantCulture) });
        }
        else
        {
            e.Syslog = new SyslogFields
            {
                Facility = i % 24,
                Severity = i % 8,
                Timestamp = receivedAt.AddSeconds(-1),
                Hostname = HostOf(i),
                AppName = "app" + (i % 7).ToString(CultureInfo.InvariantCulture),
                Procid = (1000 + i % 50).ToString(CultureInfo.InvariantCulture),
                Rfc = "5424",
            };
        }
        return e;
    }

    /// <summary>The user agent header of stream number <paramref name="n"/> (every event on a stream carries the same).</summary>
    public static string UserAgentOf(int n) => "noc-test/" + (n % 7).ToString(CultureInfo.InvariantCulture);

    /// <summary>Every fifth event names one of <see cref="StreamIds"/> streams.</summary>
    public static string StreamId(int i) => "stream-" + (i / 5 % StreamIds).ToString("D3", CultureInfo.InvariantCulture);

    /// <summary>Messages with quotes, tabs, backslashes and non-ASCII text now and then, to catch escaping mistakes.</summary>
    public static string Message(int i) => (i % 13) switch
    {
        0 => $"interface ge-0/0/{i % 48} changed state to \"down\"\tcode\\{i}",
        1 => $"température élevée {i} — ünïcödé ✓",
        _ => $"noc message {i} link utilisation {i % 100}%",
    };

    /// <summary>Produces events [from, to) to a topic (idempotent producer, acks=all, keyed by host) and waits for every acknowledgement.</summary>
    public void Produce(string bootstrapServers, string topic, int from = 0, int? to = null)
    {
        using var producer = new StreamProducer(bootstrapServers);
        for (var i = from; i < (to ?? Count); i++)
        {
            var e = Event(i);
            producer.Send(topic, new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes(e.Syslog?.Hostname ?? HostOf(i)),
                Value = EnvelopeCodec.Encode(e),
                Headers = new Headers { { KafkaHeaders.Schema, "1"u8.ToArray() }, { KafkaHeaders.ContentType, "application/json"u8.ToArray() } },
            });
        }
        producer.Complete();
    }

    /// <summary>Produces raw values (for poison records) in order to partition 0 of a topic.</summary>
    public static void ProduceRaw(string bootstrapServers, string topic, IEnumerable<byte[]> values, int partition = 0)
    {
        using var producer = new StreamProducer(bootstrapServers);
        foreach (var value in values) producer.Send(topic, new Message<byte[]?, byte[]> { Key = "poison-test"u8.ToArray(), Value = value }, partition);
        producer.Complete();
    }
}
