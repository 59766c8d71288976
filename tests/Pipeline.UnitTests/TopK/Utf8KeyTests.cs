using System.Text;
using System.Text.Json;
using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Consumers.TopK.Sketch;
using Pipeline.UnitTests.Support;

namespace Pipeline.UnitTests.TopK;

/// <summary>
/// Keys kept as the envelope's UTF-8 from the scan to the sketch: each must be, byte for byte, the UTF-8 of the key
/// the former string pipeline derived (the form checkpoints store), whatever the script, the escapes or the cut.
/// </summary>
public sealed class Utf8KeyTests
{
    // One, two, three and four UTF-8 bytes a char; the last is a surrogate pair in UTF-16.
    private static readonly string[] Chars = ["a", "Z", "7", "-", " ", "é", "ж", "€", "…", "\u00a0", "\u2003", "😀", "𝄞"];

    [Fact]
    public void JsonEscapesAreUnescapedAsTheReaderUnescapesThem()
    {
        string[] pieces = ["a", "é", "€", "😀", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9", "\\u20AC",
            "\\ud83d\\ude00", "\\uD834\\uDD1E", "\\u0000", "\\ud83d", "\\ude00", "\\ud83dx", "\\ud83d\\u0041", "\\x", "\\u12g4", "\\u12"];
        var random = new Random(4);
        for (var i = 0; i < 20_000; i++)
        {
            var content = string.Concat(Enumerable.Range(0, random.Next(0, 8)).Select(_ => pieces[random.Next(pieces.Length)]));
            var escaped = Encoding.UTF8.GetBytes(content);
            var expected = ReaderUnescape(escaped);
            var destination = new byte[escaped.Length];
            var written = JsonUnescape.Unescape(escaped, destination);
            if (expected is null) Assert.True(written < 0, content);
            else Assert.Equal(expected, destination.AsSpan(0, written).ToArray());
        }
    }

    [Fact]
    public void KeysWithEscapesAndCharsOfEveryWidthAreReadFromTheEnvelopeAsTheCodecReadsThem()
    {
        var random = new Random(8);
        var scanner = new EnvelopeScanner([]);
        var e = new ScannedEvent(0);
        for (var i = 0; i < 2_000; i++)
        {
            // Quotes, backslashes, control chars and < > & ' are written escaped by the edge's JSON writer.
            string[] pieces = [.. Chars, "\"", "\\", "\t", "\u0001", "<", ">", "&", "'"];
            var host = string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => pieces[random.Next(pieces.Length)]));
            var message = string.Concat(Enumerable.Range(0, random.Next(1, 30)).Select(_ => pieces[random.Next(pieces.Length)]));
            // As the edge writes (every char beyond ASCII escaped), and with chars beyond ASCII as they are.
            foreach (var envelope in new[] { TopKTestData.Syslog(TopKTestData.Base, host: host, message: message), Relaxed(host, message) })
            {
                Assert.True(scanner.ScanFast(envelope, e), Encoding.UTF8.GetString(envelope));
                Assert.Equal(Encoding.UTF8.GetBytes(host), e.Text(e.Host).ToArray());
                Assert.Equal(Encoding.UTF8.GetBytes(message), e.Text(e.Message).ToArray());
            }
        }
    }

    [Fact]
    public void AnEscapedLoneSurrogateIsRefusedByBothPaths()
    {
        var json = "{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\",\"message\":\"a\\ud83d b\"}"u8.ToArray();
        var scanner = new EnvelopeScanner([]);
        Assert.False(scanner.ScanFast(json, new ScannedEvent(0)));
        Assert.False(scanner.Scan(json, new ScannedEvent(0)));
    }

    [Fact]
    public void KeysAreCutAtTheLimitInCharsAsStringKeysWere()
    {
        // Keys around the limit made of chars of every width: the kept UTF-8 is that of the string cut at the limit
        // (a cut inside a surrogate pair keeps its first half, which UTF-8 writes as the replacement char).
        const int limit = 16;
        var keys = new KeyExtractor([Dimension.Parse("host")], limit);
        var (scanner, e) = keys.NewScanner();
        var random = new Random(6);
        for (var i = 0; i < 5_000; i++)
        {
            var host = string.Concat(Enumerable.Range(0, random.Next(1, 24)).Select(_ => Chars[random.Next(Chars.Length)]));
            Assert.True(scanner.Scan(TopKTestData.Syslog(TopKTestData.Base, host: host), e));
            var expected = Encoding.UTF8.GetBytes(host.Length > limit ? host[..limit] : host);
            Assert.Equal(expected, keys.KeyOf(0, e).ToArray());
        }
    }

    [Fact]
    public void TemplatesOfMessagesInAnyScriptAreTheUtf8OfTheFormerTemplatesAtEveryLimit()
    {
        string[] pieces = [.. Chars, "from", "10.1.2.3", "port", "22", "pid=42", "0x7f3a", "2001:db8::7", "ünïcode1", "€5", "😀7", ".", ":", "[", "]"];
        var random = new Random(12);
        for (var i = 0; i < 20_000; i++)
        {
            var message = string.Concat(Enumerable.Range(0, random.Next(0, 24)).Select(_ => pieces[random.Next(pieces.Length)] + (random.Next(3) == 0 ? " " : "")));
            var utf8 = Encoding.UTF8.GetBytes(message);
            foreach (var limit in new[] { 1, 2, 3, 5, 16, random.Next(1, 60), 256 })
            {
                var expected = new char[limit];
                var n = ReferenceMessageTemplate.Mask(message, expected, limit);
                var actual = new byte[MessageTemplate.MaxBytes(limit)];
                var written = MessageTemplate.Mask(utf8, actual, limit);
                Assert.Equal(Encoding.UTF8.GetBytes(expected, 0, n), actual.AsSpan(0, written).ToArray());
            }
        }
    }

    [Fact]
    public void SourceAddressesAreFoundInMessagesInAnyScript()
    {
        string[] pieces = [.. Chars, "from", "src=", "[client", "unknown[", "]", "10.1.2.3", "192.0.2.44:5678", "2001:db8::7", "fe80::1%é", "ab12", "é1.2.3.4"];
        var random = new Random(13);
        for (var i = 0; i < 20_000; i++)
        {
            var message = string.Concat(Enumerable.Range(0, random.Next(0, 16)).Select(_ => pieces[random.Next(pieces.Length)] + (random.Next(2) == 0 ? " " : "")));
            Assert.Equal(ReferenceSourceIp.Find(message), SourceIp.Find(message));
        }
    }

    [Fact]
    public void Utf8KeysThatDifferInOneByteAreToldApartAtEveryLengthAndPlace()
    {
        // Keys compared in wide words and vectors: every byte of every length counts, multi-byte chars included.
        for (var length = 1; length <= 40; length++)
        {
            var sketch = new SpaceSaving(128);
            var same = Encoding.UTF8.GetBytes(new string('é', length))[..length];
            if (length % 2 == 1) same[^1] = (byte)'k';
            sketch.Add(same, 1);
            for (var place = 0; place < length; place++)
            {
                var other = same.ToArray();
                other[place] ^= 0x01;
                sketch.Add(other, 2);
            }
            sketch.Add(same, 1);
            Assert.Equal(length + 1, sketch.Count);
            Assert.Equal(2, sketch.Find(Encoding.UTF8.GetString(same))?.Count);
        }
    }

    [Fact]
    public void TheArenaTellsKeysThatDifferInOneByteApartAtEveryLengthAndPlace()
    {
        // The sketch compares keys only when their hashes meet, which a test cannot arrange: the comparison itself.
        var arena = new KeyArena(70 * 71);
        for (var length = 1; length <= 70; length++)
        {
            var key = Enumerable.Range(0, length).Select(i => (byte)(0xA0 + i)).ToArray();
            var stored = arena.Append(key);
            Assert.True(arena.Holds(in stored, key));
            Assert.False(arena.Holds(in stored, key.AsSpan(0, length - 1)));
            for (var place = 0; place < length; place++)
            {
                var other = key.ToArray();
                other[place] ^= 0x01;
                Assert.False(arena.Holds(in stored, other), $"length {length}, place {place}");
            }
        }
    }

    [Fact]
    public void KeysInAnyScriptGoThroughASketchAndItsStoredFormUnchanged()
    {
        var random = new Random(21);
        var sketch = new SpaceSaving(32);
        var names = Enumerable.Range(0, 200).Select(i => string.Concat(Enumerable.Range(0, 1 + i % 9).Select(_ => Chars[random.Next(Chars.Length)]))).Distinct().ToList();
        foreach (var name in names) sketch.Add(Encoding.UTF8.GetBytes(name), 1 + random.Next(5));
        var restored = SketchCodec.Decode(SketchCodec.Encode(sketch));
        Assert.Equal(sketch.Entries(), restored.Entries());
        Assert.All(sketch.Entries(), entry => Assert.Contains(entry.Key, names));
        Assert.Equal(SketchCodec.Encode(sketch), SketchCodec.Encode(restored));
    }

    private static byte[] Relaxed(string host, string message) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
    {
        ["id"] = "01J",
        ["received_at"] = TopKTestData.Base,
        ["syslog"] = new Dictionary<string, string> { ["hostname"] = host },
        ["message"] = message,
    }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static byte[]? ReaderUnescape(byte[] escaped)
    {
        var json = new byte[escaped.Length + 2];
        json[0] = json[^1] = (byte)'"';
        escaped.CopyTo(json, 1);
        try
        {
            var reader = new Utf8JsonReader(json);
            reader.Read();
            var buffer = new byte[escaped.Length];
            return buffer.AsSpan(0, reader.CopyString(buffer)).ToArray();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
