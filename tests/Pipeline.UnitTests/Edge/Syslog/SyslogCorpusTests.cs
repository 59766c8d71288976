using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

/// <summary>
/// The conformance corpus (Data/SyslogCorpus/README.md): lines from other parsers' test suites with the fields each
/// suite asserts. Every case goes through the parser and the envelope writer, as the edge publishes it, and every
/// asserted field is compared with the envelope. The cases the edge reads differently on purpose are listed, each with
/// its reason, in Data/SyslogCorpus/exceptions.tsv.
/// </summary>
public sealed class SyslogCorpusTests
{
    private const double RequiredPassRate = 0.95;
    // Any fixed day: no asserted field depends on the year the parser infers.
    private static readonly DateTimeOffset Received = new(2026, 6, 15, 12, 0, 0, TimeSpan.Zero);
    private static readonly IngestOrigin Origin =
        new(new ListenerMarkup("corpus", "tcp", "test", new Dictionary<string, string>(), null), new IPEndPoint(IPAddress.Loopback, 514), null);

    [Fact]
    public void AtLeast95PercentOfTheValidCasesReadAsTheirSourcesAssertAndEveryOtherIsAListedException()
    {
        var cases = Cases().Where(c => c.Valid).ToList();
        var exceptions = Exceptions();
        var failures = new Dictionary<string, string>();
        foreach (var c in cases)
        {
            var mismatch = Mismatch(c, Publish(c));
            if (mismatch is not null) failures[c.Id] = mismatch;
        }

        var unlisted = failures.Where(f => !exceptions.ContainsKey(f.Key)).Select(f => $"{f.Key}: {f.Value}").ToList();
        Assert.True(unlisted.Count == 0, "cases read differently and not listed as exceptions:\n" + string.Join('\n', unlisted));
        var stale = exceptions.Keys.Where(id => !failures.ContainsKey(id)).ToList();
        Assert.True(stale.Count == 0, "listed exceptions that now pass (remove them): " + string.Join(", ", stale));
        var passRate = (double)(cases.Count - failures.Count) / cases.Count;
        Assert.True(passRate >= RequiredPassRate, $"{cases.Count - failures.Count} of {cases.Count} valid cases pass ({passRate:P1})");
    }

    [Fact]
    public void EveryListedExceptionIsAValidCaseOfTheCorpusWithAReason()
    {
        var valid = Cases().Where(c => c.Valid).Select(c => c.Id).ToHashSet();
        foreach (var (id, reason) in Exceptions())
        {
            Assert.Contains(id, valid);
            Assert.False(string.IsNullOrWhiteSpace(reason), id);
        }
    }

    [Fact]
    public void EveryInvalidCaseIsShippedWholeWithItsParseStatus()
    {
        foreach (var c in Cases().Where(c => !c.Valid))
        {
            var envelope = Publish(c);
            Assert.Equal(Encoding.UTF8.GetString(c.Input), envelope["raw"]!.GetValue<string>());
            var status = envelope["parse_status"]!.GetValue<string>();
            Assert.Contains(status, new[] { "ok", "partial", "failed" });
            Assert.Equal(status != "ok", envelope["parse_error"] is not null);
        }
    }

    private static JsonObject Publish(Case c)
    {
        var context = new SyslogParseContext(Received, IPAddress.Loopback, c.Zone);
        var message = SyslogParser.Parse(c.Input, context);
        var envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(Received, EventKinds.Log, Origin, 1), c.Input, message);
        return JsonNode.Parse(envelope.ToArray())!.AsObject();
    }

    /// <summary>What differs between the fields the case asserts and the envelope, or null when nothing does.</summary>
    private static string? Mismatch(Case c, JsonObject envelope)
    {
        var syslog = envelope["syslog"] as JsonObject ?? [];
        var wrong = new List<string>();
        foreach (var (field, expected) in c.Expect)
        {
            var ok = field switch
            {
                "facility" or "severity" or "version" => SameNumber(expected, syslog[field]),
                "hostname" or "app_name" or "procid" or "msgid" => SameText(expected, syslog[field], emptyIsAbsent: false),
                "message" => SameText(expected, envelope["message"], emptyIsAbsent: true),
                "structured_data" => expected is null
                    ? syslog[field] is null || syslog[field]!.AsObject().Count == 0
                    : JsonNode.DeepEquals(expected, syslog[field]),
                "timestamp" => expected is null ? syslog["timestamp"] is null : SameInstant(expected.GetValue<string>(), syslog["timestamp"]),
                "ts_iso_no_year" => SameTimeOfYear(expected!.GetValue<string>(), syslog["timestamp"]),
                _ => true,
            };
            if (!ok) wrong.Add($"{field}: expected {expected?.ToJsonString() ?? "absent"}, got {Got(field, envelope, syslog)}");
        }

        return wrong.Count == 0 ? null : string.Join("; ", wrong);
    }

    private static string Got(string field, JsonObject envelope, JsonObject syslog) =>
        (field switch
        {
            "message" => envelope["message"],
            "ts_iso_no_year" => syslog["timestamp"],
            _ => syslog[field],
        })?.ToJsonString() ?? "absent";

    private static bool SameNumber(JsonNode? expected, JsonNode? actual) =>
        expected is null ? actual is null : actual is not null && expected.GetValue<int>() == actual.GetValue<int>();

    private static bool SameText(JsonNode? expected, JsonNode? actual, bool emptyIsAbsent)
    {
        if (expected is null) return actual is null || (emptyIsAbsent && actual.GetValue<string>().Length == 0);
        return actual is not null && expected.GetValue<string>() == actual.GetValue<string>();
    }

    /// <summary>Timestamps compare as instants, to the nanosecond; a leap second (:60) is the next second's first instant, as POSIX time has it.</summary>
    private static bool SameInstant(string expected, JsonNode? actual) =>
        actual is not null && Instant(expected) == Instant(actual.GetValue<string>());

    /// <summary><c>--MM-DDThh:mm:ss[.fraction][zone]</c>: month, day and time in the zone given, or as the line wrote it when none is.</summary>
    private static bool SameTimeOfYear(string expected, JsonNode? actual)
    {
        if (actual is null) return false;
        var (wall, nanos, zone) = Split("2000-" + expected[2..]);
        var (ours, ourNanos, ourZone) = Split(actual.GetValue<string>());
        var local = DateTime.ParseExact(ours, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        if (zone is { } z && ourZone is { } oz) local = local - oz + z;
        return local.ToString("MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) == wall[5..] && ourNanos == nanos;
    }

    private static (DateTimeOffset Instant, long Nanos) Instant(string text)
    {
        var (wall, nanos, zone) = Split(text);
        var leap = wall.EndsWith(":60", StringComparison.Ordinal);
        var local = DateTime.ParseExact(leap ? wall[..^2] + "59" : wall, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return (new DateTimeOffset(local, zone ?? TimeSpan.Zero).AddSeconds(leap ? 1 : 0).ToUniversalTime(), nanos);
    }

    /// <summary>An ISO timestamp as wall clock (to the second), fraction in nanoseconds, and offset (null when none is written).</summary>
    private static (string Wall, long Nanos, TimeSpan? Zone) Split(string text)
    {
        var wall = text[..19];
        var rest = text[19..];
        long nanos = 0;
        if (rest.StartsWith('.'))
        {
            var digits = rest[1..].TakeWhile(char.IsAsciiDigit).ToArray();
            nanos = long.Parse(new string(digits).PadRight(9, '0')[..9], CultureInfo.InvariantCulture);
            rest = rest[(1 + digits.Length)..];
        }

        TimeSpan? zone = rest switch
        {
            "" => null,
            "Z" or "z" => TimeSpan.Zero,
            _ => TimeSpan.ParseExact(rest[1..].Replace(":", "", StringComparison.Ordinal), "hhmm", CultureInfo.InvariantCulture)
                 * (rest[0] == '-' ? -1 : 1),
        };
        return (wall, nanos, zone);
    }

    private static IEnumerable<Case> Cases()
    {
        foreach (var line in File.ReadLines(DataPath("cases.jsonl")))
        {
            var c = JsonNode.Parse(line)!.AsObject();
            var input = c["input"] is JsonValue text ? Encoding.UTF8.GetBytes(text.GetValue<string>()) : Convert.FromHexString(c["input_hex"]!.GetValue<string>());
            var expect = c["expect"]!.AsObject().ToDictionary(p => p.Key, p => p.Value?.DeepClone());
            yield return new Case(c["id"]!.GetValue<string>(), c["valid"]!.GetValue<bool>(), input, expect, ZoneOf(c["options"]?.GetValue<string>()));
        }
    }

    /// <summary>A source option that fixes the zone of times without one is the time-zone table's default zone here.</summary>
    private static ITimeZoneResolver ZoneOf(string? options)
    {
        foreach (var option in (options ?? "").Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = option.Split('=', 2);
            if (parts.Length != 2 || parts[0] is not ("timezone" or "location")) continue;
            var zone = parts[1][0] is '+' or '-'
                ? TimeZoneInfo.CreateCustomTimeZone(parts[1], TimeSpan.Parse(parts[1].TrimStart('+'), CultureInfo.InvariantCulture), parts[1], parts[1])
                : TimeZoneInfo.FindSystemTimeZoneById(parts[1]);
            return new SyslogParserRfc3164Tests.FixedZone(zone);
        }

        return UtcTimeZoneResolver.Instance;
    }

    private static Dictionary<string, string> Exceptions() =>
        File.ReadLines(DataPath("exceptions.tsv"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1] : "");

    private static string DataPath(string file) => Path.Combine(AppContext.BaseDirectory, "Data", "SyslogCorpus", file);

    private sealed record Case(string Id, bool Valid, byte[] Input, Dictionary<string, JsonNode?> Expect, ITimeZoneResolver Zone);
}
