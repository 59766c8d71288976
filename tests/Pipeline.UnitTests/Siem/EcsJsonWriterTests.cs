using System.Buffers;
using System.Text;
using System.Text.Json;
using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.UnitTests.Siem;

/// <summary>
/// The sink's own document writer puts down the very bytes a <see cref="Utf8JsonWriter"/> writes for the same
/// document (the archive hashes them): for the shipped rules' documents and for documents of every value kind with
/// text a JSON writer has to escape.
/// </summary>
public sealed class EcsJsonWriterTests
{
    private static string WithWriter(EcsDocument doc)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, EcsJsonWriter.Options)) doc.WriteTo(json);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string WithOwnWriter(EcsDocument doc)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new EcsJsonWriter();
        buffer.Write("xyz"u8);
        writer.Write(doc, buffer);
        Assert.StartsWith("xyz", Encoding.UTF8.GetString(buffer.WrittenSpan), StringComparison.Ordinal);
        return Encoding.UTF8.GetString(buffer.WrittenSpan)[3..];
    }

    [Fact]
    public void TheShippedRulesDocumentsOfTheAuthLogAreWrittenByteForByteAsTheJsonWriterWritesThem()
    {
        var normaliser = new EcsNormaliser(new Classifier(SiemTestData.ShippedOptions().Classification));
        var offset = 0L;
        foreach (var e in SiemTestData.AuthLog(SiemTestData.AuthLogSample))
        {
            var (doc, _) = normaliser.Normalise(SiemTestData.Record(e, offset++), e, null, SiemTestData.T0);
            Assert.Equal(WithWriter(doc), WithOwnWriter(doc));
        }
    }

    private static readonly string[] Texts =
    [
        "plain", "", "ünïcödé and 中文 and emoji 🙂", "quote \" backslash \\ slash /", "tab\tnewline\nreturn\r", "\u0001\u001f\u007f\u0085",
        "line\u2028separator\u2029", "lone \ud800 high", "lone \udc00 low", "<script>&'`+", "\ufeffbom", "x\u0000y", new string('a', 5000) + "é",
    ];

    [Fact]
    public void DocumentsOfEveryValueKindAndAwkwardTextAreWrittenByteForByteAsTheJsonWriterWritesThem()
    {
        var random = new Random(11);
        var keys = new[] { "message", "event.original", "event.id", "source.ip", "log.syslog.hostname", "log.syslog.facility.code", "labels", "pipeline.payload",
            "pipeline.metric.value", "related.user", "@timestamp", "event.created", "pipeline.flag", "a.b.c.d", "a.b", "a.bc", "a-b", "z" };
        for (var n = 0; n < 2000; n++)
        {
            var doc = new EcsDocument();
            foreach (var key in keys.Where(_ => random.Next(3) > 0))
            {
                object value = random.Next(9) switch
                {
                    0 => Texts[random.Next(Texts.Length)] + random.Next(),
                    1 => random.NextInt64(long.MinValue, long.MaxValue),
                    2 => new[] { 0.5, double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 1e300, 3.0, double.Epsilon }[random.Next(8)],
                    3 => random.Next(2) == 0,
                    4 => new DateTimeOffset(random.NextInt64(DateTimeOffset.MinValue.Ticks, DateTimeOffset.MaxValue.Ticks), TimeSpan.Zero).ToOffset(TimeSpan.FromHours(random.Next(-12, 13))),
                    5 => Enumerable.Range(0, random.Next(1, 4)).Select(_ => Texts[random.Next(Texts.Length)]).ToArray(),
                    6 => new Dictionary<string, string> { [Texts[random.Next(Texts.Length)]] = Texts[random.Next(Texts.Length)], ["k"] = "v" },
                    7 => JsonDocument.Parse("{\"s\":\"a\\u00e9\\\"\",\"n\":[1,2.5e-3,null,true],\"o\":{}}").RootElement,
                    _ => Texts[random.Next(Texts.Length)],
                };
                doc.Set(key, value);
            }
            Assert.Equal(WithWriter(doc), WithOwnWriter(doc));
        }
    }
}
