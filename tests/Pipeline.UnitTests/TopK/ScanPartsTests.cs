using System.Text;
using Pipeline.Consumers.TopK.Extraction;

namespace Pipeline.UnitTests.TopK;

/// <summary>The pieces the fast scan stands on: its bitmaps of a text, and its lookup of field names.</summary>
public sealed class ScanPartsTests
{
    [Fact]
    public void TheBitmapsMarkStopsAndBytesBeyondAsciiAndARangeSeesEveryMarkInIt()
    {
        var random = new Random(2);
        for (var i = 0; i < 300; i++)
        {
            var text = new byte[random.Next(1, 300)];
            for (var j = 0; j < text.Length; j++) text[j] = random.Next(12) switch { 0 => (byte)'"', 1 => (byte)'\\', 2 => 0x05, 3 => 0xC3, _ => (byte)'a' };
            var words = StringStops.WordsFor(text.Length);
            var stops = new ulong[words];
            var beyond = new ulong[words];
            StringStops.Build(text, stops, beyond);
            for (var from = 0; from < text.Length; from += 1 + random.Next(5))
            {
                var expected = Array.FindIndex(text, from, b => b is (byte)'"' or (byte)'\\' or < 0x20);
                Assert.Equal(expected, StringStops.Next(stops, from));
                for (var to = from; to <= text.Length; to += 1 + random.Next(40))
                    Assert.Equal(text.AsSpan(from, to - from).ContainsAnyInRange((byte)0x80, (byte)0xFF), StringStops.Any(beyond, from, to));
            }
        }
    }

    [Theory]
    [InlineData("id")]
    [InlineData("received_at")]
    [InlineData("sample_rate")]
    [InlineData("message")]
    [InlineData("tenant")]
    [InlineData("kind")]
    [InlineData("source")]
    [InlineData("syslog")]
    [InlineData("payload")]
    [InlineData("metric")]
    public void EveryFieldReadIsFoundByItsNameAndNoNameThatDiffersInOneByte(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        Assert.NotEqual(EnvelopeField.Other, FieldNames.TopLevel.Find(bytes));
        for (var place = 0; place < bytes.Length; place++)
        {
            var other = bytes.ToArray();
            other[place] ^= 0x20;
            Assert.Equal(EnvelopeField.Other, FieldNames.TopLevel.Find(other));
        }
        Assert.Equal(EnvelopeField.Other, FieldNames.TopLevel.Find(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Equal(EnvelopeField.Other, FieldNames.TopLevel.Find([.. bytes, (byte)'x']));
    }

    [Fact]
    public void MembersOfSourceAndSyslogAreFoundInTheirOwnObjectsOnly()
    {
        Assert.Equal(EnvelopeField.SenderIp, FieldNames.OfSource.Find("ip"u8));
        Assert.Equal(EnvelopeField.Hostname, FieldNames.OfSyslog.Find("hostname"u8));
        Assert.Equal(EnvelopeField.AppName, FieldNames.OfSyslog.Find("app_name"u8));
        Assert.Equal(EnvelopeField.Severity, FieldNames.OfSyslog.Find("severity"u8));
        Assert.Equal(EnvelopeField.Other, FieldNames.TopLevel.Find("hostname"u8));
        Assert.Equal(EnvelopeField.Other, FieldNames.OfSyslog.Find("facility"u8));
        Assert.Equal(EnvelopeField.Other, FieldNames.OfSyslog.Find(""u8));
        Assert.Equal(EnvelopeField.Other, FieldNames.OfSyslog.Find("a_name_longer_than_sixteen"u8));
    }
}
