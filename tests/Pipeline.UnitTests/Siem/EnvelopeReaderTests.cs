using System.Text;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Core.Envelope;

namespace Pipeline.UnitTests.Siem;

/// <summary>
/// The SIEM's one-pass envelope reader gives what the codec gives, for every input: the edge's envelopes in its own
/// pass (the readers' agreement test covers every shape the edge writes), and anything unusual by handing it to the
/// codec — the same envelope, or the same refusal.
/// </summary>
public sealed class EnvelopeReaderTests
{
    private const string Head = "\"id\":\"01HZY3W9N8RXT4G6Q2V5K7M1PB\",\"received_at\":\"2026-03-14T09:26:53.589Z\"";

    public static TheoryData<string, string> Inputs => new()
    {
        { "the edge's shape", "{" + Head + ",\"kind\":\"log\",\"source\":{\"transport\":\"tcp\",\"ip\":\"192.0.2.7\",\"port\":5140,\"edge\":\"edge-1\"},\"syslog\":{\"facility\":4,\"severity\":2,\"timestamp\":\"2026-03-14T09:26:50Z\",\"hostname\":\"h\",\"app_name\":\"sshd\",\"procid\":\"1\",\"structured_data\":{\"a@1\":{\"k\":\"v\"}},\"rfc\":\"5424\"},\"message\":\"Failed password\",\"raw\":\"<34>1 …\",\"parse_status\":\"ok\"}" },
        { "fields it does not know, anywhere", "{" + Head + ",\"later\":{\"a\":[1,{\"b\":null}]},\"source\":{\"transport\":\"udp\",\"new\":true},\"syslog\":{\"x\":[1]},\"message\":\"m\"}" },
        { "a name written with an escape", "{\"i\\u0064\":\"01HZY3W9N8RXT4G6Q2V5K7M1PB\",\"received_at\":\"2026-03-14T09:26:53.589Z\",\"message\":\"m\"}" },
        { "a field twice", "{" + Head + ",\"message\":\"first\",\"message\":\"second\"}" },
        { "a tag twice", "{" + Head + ",\"tags\":{\"a\":\"1\",\"a\":\"2\"}}" },
        { "a null source", "{" + Head + ",\"source\":null}" },
        { "null where text may be null", "{" + Head + ",\"message\":null,\"tenant\":null,\"source\":{\"transport\":null,\"port\":null}}" },
        { "a null payload", "{" + Head + ",\"payload\":null}" },
        { "a payload of every kind", "{" + Head + ",\"kind\":\"event\",\"payload\":{\"s\":\"x\",\"n\":1.5e3,\"b\":false,\"a\":[],\"o\":{}}}" },
        { "a metric that is not a number", "{" + Head + ",\"kind\":\"metric\",\"metric\":{\"name\":\"up\",\"value\":\"NaN\",\"type\":\"gauge\",\"delta\":\"-Infinity\"}}" },
        { "a metric with labels and a time", "{" + Head + ",\"kind\":\"metric\",\"metric\":{\"name\":\"up\",\"value\":1,\"labels\":{\"job\":\"n\"},\"timestamp\":\"2026-03-14T09:26:50.5+02:00\",\"delta\":0.5}}" },
        { "a tag that is no text", "{" + Head + ",\"tags\":{\"a\":1}}" },
        { "a sample rate in quotes", "{" + Head + ",\"sample_rate\":\"4\"}" },
        { "a sample rate that is no integer", "{" + Head + ",\"sample_rate\":1.5}" },
        { "a time that is no time", "{" + Head + ",\"syslog\":{\"timestamp\":\"yesterday\"}}" },
        { "no id", "{\"received_at\":\"2026-03-14T09:26:53.589Z\",\"message\":\"m\"}" },
        { "an empty id", "{\"id\":\"\",\"received_at\":\"2026-03-14T09:26:53.589Z\"}" },
        { "bytes after the object", "{" + Head + "} {}" },
        { "an array", "[" + Head + "]" },
        { "not JSON", "Mar 12 09:58:02 bastion01 sshd[21391]: Accepted" },
        { "cut short", "{" + Head + ",\"message\":\"m" },
        { "a lone surrogate", "{" + Head + ",\"message\":\"\\ud800 x\"}" },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void ItReadsWhatTheCodecReadsOrRefusesWhatTheCodecRefuses(string what, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        TelemetryEvent? expected = null;
        Exception? refused = null;
        try
        {
            expected = EnvelopeCodec.Decode(bytes);
        }
        catch (EnvelopeFormatException ex)
        {
            refused = ex;
        }

        if (refused is not null)
        {
            var ex = Assert.Throws<EnvelopeFormatException>(() => EnvelopeReader.Read(bytes));
            Assert.Equal(refused.Message, ex.Message);
            return;
        }
        var read = EnvelopeReader.Read(bytes);
        Assert.True(Encoding.UTF8.GetString(EnvelopeCodec.Encode(expected!)) == Encoding.UTF8.GetString(EnvelopeCodec.Encode(read)), what);
    }

    [Fact]
    public void TheEdgesShapeIsReadInItsOwnPassAndTheUnusualIsLeftToTheCodec()
    {
        Assert.NotNull(EnvelopeReader.TryRead(Encoding.UTF8.GetBytes((string)Inputs.First(i => (string)i[0] == "the edge's shape")[1])));
        Assert.Null(EnvelopeReader.TryRead(Encoding.UTF8.GetBytes((string)Inputs.First(i => (string)i[0] == "a field twice")[1])));
        Assert.Null(EnvelopeReader.TryRead(Encoding.UTF8.GetBytes((string)Inputs.First(i => (string)i[0] == "a name written with an escape")[1])));
    }
}
