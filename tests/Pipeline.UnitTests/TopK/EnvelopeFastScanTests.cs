using System.Text;
using System.Text.Json;
using Pipeline.Consumers.TopK.Extraction;
using Pipeline.UnitTests.Support;

namespace Pipeline.UnitTests.TopK;

/// <summary>The scanner's fast path against its reader path: the same answer on every input, valid or not.</summary>
public sealed class EnvelopeFastScanTests
{
    private static readonly string[][] PayloadPaths = [["http", "status"]];

    private static IEnumerable<byte[]> Envelopes()
    {
        var random = new Random(5);
        for (var i = 0; i < 200; i++)
        {
            var at = TopKTestData.Base.AddTicks(random.NextInt64(0, TimeSpan.TicksPerDay)).ToOffset(TimeSpan.FromMinutes(random.Next(-3, 4) * 90));
            yield return TopKTestData.Syslog(at,
                host: i % 17 == 0 ? null : "host-" + random.Next(1000) + (i % 5 == 0 ? "-\"quoted\"\t" : ""),
                app: i % 13 == 0 ? null : "app" + random.Next(40),
                severity: i % 11 == 0 ? null : random.Next(8),
                message: i % 19 == 0 ? null : $"Failed password for ünïcode{i} from 10.{i % 256}.0.1 port {random.Next(65535)} ssh2 \\ \u0001 €",
                sampleRate: i % 10 == 0 ? 4 : 1,
                tenant: i % 3 == 0 ? null : "tenant" + random.Next(20),
                senderIp: i % 7 == 0 ? null : "192.0.2." + random.Next(255));
        }
        yield return TopKTestData.HttpEvent(TopKTestData.Base, """{"http":{"status":503},"list":[1,-2.5e3,true,false,null,{"a":[]}]}""");
        yield return TopKTestData.Metric(TopKTestData.Base, "errors_total", new() { ["job"] = "node" }, 5, 2);
    }

    [Fact]
    public void TheFastPathDecidesEveryEnvelopeTheEdgeWritesAsTheReaderDoes()
    {
        var scanner = new EnvelopeScanner([]);
        foreach (var envelope in Envelopes())
        {
            var fast = new ScannedEvent(0);
            var reader = new ScannedEvent(0);
            Assert.True(scanner.ScanFast(envelope, fast), Encoding.UTF8.GetString(envelope));
            Assert.True(scanner.ScanWithReader(envelope, reader));
            Assert.Equal(Fields(reader), Fields(fast));
        }
    }

    [Fact]
    public void PayloadAndMetricObjectsAreLeftToTheReaderWhenADimensionReadsThem()
    {
        var http = TopKTestData.HttpEvent(TopKTestData.Base, """{"http":{"status":503}}""");
        var withPayload = new EnvelopeScanner(PayloadPaths);
        var e = new ScannedEvent(1);
        Assert.False(withPayload.ScanFast(http, e));
        Assert.True(withPayload.Scan(http, e));
        Assert.Equal("503", e.String(e.Payload[0]));
    }

    [Fact]
    public void CorruptedEnvelopesGetTheSameAnswerFromBothPaths()
    {
        // Every kind of damage a record can carry: a byte replaced by one that matters to JSON, a byte dropped,
        // the record cut short. Whenever the fast path answers, the reader path must give the same answer.
        byte[] replacements = [(byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)' ',
            (byte)'-', (byte)'0', (byte)'e', (byte)'.', (byte)'u', (byte)'t', (byte)'Z', (byte)'+', 0x01, 0x7f, 0xC3, 0xFF];
        var random = new Random(17);
        var envelopes = Envelopes().ToList();
        var scanner = new EnvelopeScanner([]);
        var decided = 0;
        for (var i = 0; i < 30_000; i++)
        {
            var data = envelopes[random.Next(envelopes.Count)].ToList();
            var damage = random.Next(3);
            var at = random.Next(data.Count);
            if (damage == 0) data[at] = replacements[random.Next(replacements.Length)];
            else if (damage == 1) data.RemoveAt(at);
            else data.RemoveRange(at, data.Count - at);
            var bytes = data.ToArray();

            var fast = new ScannedEvent(0);
            var reader = new ScannedEvent(0);
            var readerAnswer = scanner.ScanWithReader(bytes, reader);
            Assert.Equal(readerAnswer, scanner.Scan(bytes, fast));
            if (readerAnswer) Assert.Equal(Fields(reader), Fields(fast));
            if (scanner.ScanFast(bytes, fast))
            {
                decided++;
                Assert.True(readerAnswer, Encoding.Latin1.GetString(bytes));
                Assert.Equal(Fields(reader), Fields(fast));
            }
        }
        // The damage often falls in a part the fast path checks and accepts (the raw line, a letter of a value).
        Assert.True(decided > 5_000, $"the fast path decided only {decided} inputs");
    }

    [Theory]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"id\":\"\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"sample_rate\":4.5,\"syslog\":{\"severity\":1e1}}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"tenant\":7,\"kind\":{\"a\":1},\"syslog\":[]}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\"} trailing text is not read")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"deep\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14 12:00:00Z\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-02-29T12:00:00Z\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00.12345678Z\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"0001-01-01T00:30:00+01:00\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00+14:01\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"a\":01}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"a\":[1,]}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"a\":\"\\q\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"a\":tru}")]
    [InlineData(" \r\n{ \"id\" : \"x\" , \"received_at\" : \"2025-03-14T12:00:00.5-03:30\" , \"message\" : \"a\\u00e9\\n\" } ")]
    public void OddButPossibleInputsGetTheSameAnswerFromBothPaths(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var scanner = new EnvelopeScanner([]);
        var fast = new ScannedEvent(0);
        var reader = new ScannedEvent(0);
        var answer = scanner.ScanWithReader(bytes, reader);
        Assert.Equal(answer, scanner.Scan(bytes, fast));
        if (answer) Assert.Equal(Fields(reader), Fields(fast));
    }

    [Fact]
    public void NamesOtherThanThePreviousEnvelopesAtTheSamePlaceAreReadAsTheReaderReadsThem()
    {
        // One scanner expects each envelope's names where the one before had them: every pair in both orders.
        string[] envelopes =
        [
            """{"id":"a","received_at":"2025-03-14T12:00:00Z","tenant":"t1","syslog":{"hostname":"h1","app_name":"a1","severity":3},"message":"m1"}""",
            """{"id":"b","received_at":"2025-03-14T12:00:01Z","tenant":"t2","syslog":{"app_name":"a2","hostname":"h2","severity":4},"message":"m2"}""",
            """{"received_at":"2025-03-14T12:00:02Z","id":"c","message":"m3","syslog":{"hostname":"h3"},"tenant":"t3"}""",
            """{"id" :"d","received_at": "2025-03-14T12:00:03Z","tenant" : "t4","syslog":{ "hostname" :"h4","app_name":"a4"},"message":"m4"}""",
            """{"id":"e","received_at":"2025-03-14T12:00:04Z","tenanx":"t5","syslog":{"hostnamx":"h5","app_name":"a5","severitx":1},"message":"m5"}""",
            """{"id":"f","received_at":"2025-03-14T12:00:05Z","tena\u006et":"t6","syslog":{"host\u006eame":"h6"},"message":"m6"}""",
            """{"id":"g","received_at":"2025-03-14T12:00:06Z","tenant":"t7","syslog":{"host":"h7","name":"x","hostname":"h7b"},"message":"m7"}""",
            """{"id":"h","received_at":"2025-03-14T12:00:07Z","tenant":"t8","syslog":{"hostname":"h8","app_name":"a8","severity":3},"message":"m8","a_name_longer_than_thirty_two_bytes":1}""",
            """{"id":"i","received_at":"2025-03-14T12:00:08Z","tenant":"t9","syslog":{"hostname":"h9","app_name":"a9","severity":3},"message":"m9","a_name_longer_than_thirty_two_bytes":1}""",
            """{"id":"j","received_at":"2025-03-14T12:00:09Z","tenant":"t0","syslog":{"hostname":"h0","app_name":"a0","severity":"3"},"message":"m0"}""",
        ];
        var scanner = new EnvelopeScanner([]);
        for (var i = 0; i < envelopes.Length; i++)
            for (var j = 0; j < envelopes.Length; j++)
                foreach (var text in new[] { envelopes[i], envelopes[j] })
                {
                    var bytes = Encoding.UTF8.GetBytes(text);
                    var fast = new ScannedEvent(0);
                    var reader = new ScannedEvent(0);
                    var answer = new EnvelopeScanner([]).ScanWithReader(bytes, reader);
                    Assert.True(answer, text);
                    Assert.True(scanner.Scan(bytes, fast));
                    Assert.Equal(Fields(reader), Fields(fast));
                }
    }

    [Fact]
    public void AMessageThatIsNotValidUtf8IsRefusedNotThrown()
    {
        var bytes = TopKTestData.Syslog(TopKTestData.Base, message: "abc");
        var at = Encoding.UTF8.GetString(bytes).IndexOf("\"message\":\"abc\"", StringComparison.Ordinal);
        Assert.True(at > 0);
        // The whole text is ASCII: a char's index is its byte's.
        bytes[at + "\"message\":\"".Length] = 0xFF;
        Assert.False(new EnvelopeScanner([]).Scan(bytes, new ScannedEvent(0)));
    }

    [Fact]
    public void TimesInTheEdgesFormAreReadAsTheReaderReadsThem()
    {
        var random = new Random(23);
        for (var i = 0; i < 20_000; i++)
        {
            var at = new DateTimeOffset(random.NextInt64(DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay), TimeSpan.Zero)
                .ToOffset(TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60 + 1)));
            // Whole seconds, milliseconds and ticks: the writer trims trailing zeros of the fraction.
            at = (i % 3) switch { 0 => at.AddTicks(-(at.Ticks % TimeSpan.TicksPerSecond)), 1 => at.AddTicks(-(at.Ticks % TimeSpan.TicksPerMillisecond)), _ => at };
            var json = JsonSerializer.SerializeToUtf8Bytes(at);
            Assert.True(Rfc3339.TryParse(json.AsSpan(1, json.Length - 2), out var parsed), Encoding.UTF8.GetString(json));
            var reader = new Utf8JsonReader(json);
            reader.Read();
            Assert.True(reader.TryGetDateTimeOffset(out var expected));
            Assert.Equal(expected, parsed);
            Assert.Equal(expected.Offset, parsed.Offset);
            var utc = Encoding.UTF8.GetBytes(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(Rfc3339.TryParse(utc, out var zulu));
            Assert.Equal(at.UtcTicks, zulu.UtcTicks);
        }
    }

    [Theory]
    // Same minute: the cached minute is reused, the rest is still read and checked.
    [InlineData("2026-12-07T13:05:01.25Z", true)]
    [InlineData("2026-12-07T13:05:59+01:00", true)]
    [InlineData("2026-12-07T13:05:60Z", false)]
    [InlineData("2026-12-07T13:05:1xZ", false)]
    [InlineData("2026-12-07T13:05:02", false)]
    [InlineData("2026-12-07T13:05;02Z", false)]
    // Another minute, valid or not, is read whole.
    [InlineData("2026-12-07T13:06:00Z", true)]
    [InlineData("2026-02-29T13:05:00Z", false)]
    [InlineData("2026-12-07T24:05:00Z", false)]
    [InlineData("2026-12-07X13:05:00Z", false)]
    public void TheMinuteOfThePreviousTimeIsReusedOnlyWhenItIsTheSame(string text, bool valid)
    {
        var cache = new Rfc3339.MinuteCache();
        Assert.True(Rfc3339.TryParse("2026-12-07T13:05:00.5Z"u8, cache, out _));
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(valid, Rfc3339.TryParse(bytes, cache, out var cached));
        Assert.Equal(valid, Rfc3339.TryParse(bytes, out var uncached));
        Assert.Equal(uncached, cached);
        Assert.Equal(uncached.Offset, cached.Offset);
        if (valid) Assert.Equal(DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture), cached);
        // An invalid time leaves the cached minute as it was: the next time of that minute is still read right.
        Assert.True(Rfc3339.TryParse("2026-12-07T13:05:07Z"u8, cache, out var next));
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 13, 5, 7, TimeSpan.Zero), next);
    }
    private static string Fields(ScannedEvent e) => string.Join("|",
        e.HasId, e.ReceivedAt?.ToString("O"), e.ReceivedAt?.Offset, e.SampleRate, e.Severity,
        Text(e, e.Host), Text(e, e.App), Text(e, e.Tenant), Text(e, e.Kind), Text(e, e.Message), Text(e, e.SenderIp));

    private static string Text(ScannedEvent e, TextSlot slot) => slot.IsPresent ? "[" + e.String(slot) + "]" : "none";
}
