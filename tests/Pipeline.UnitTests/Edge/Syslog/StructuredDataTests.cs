using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class StructuredDataTests
{
    [Theory]
    [InlineData("")]
    [InlineData("-")]
    public void NoStructuredDataIsAnEmptyObject(string sd)
    {
        Assert.Equal("{}", Parsed.SdJson(sd));
        Assert.True(StructuredData.IsWellFormed(Encoding.UTF8.GetBytes(sd)));
    }

    [Fact]
    public void AnElementWithoutParametersIsAnEmptyObject()
    {
        Assert.Equal("""{"origin":{}}""", Parsed.SdJson("[origin]"));
    }

    [Fact]
    public void OnlyQuoteBackslashAndClosingBracketLoseTheirBackslash()
    {
        var json = Parsed.SdJson("""[x q="\"" b="\\" c="\]" n="\n" o="\[" t="a\\\"b"]""");

        var x = JsonDocument.Parse(json).RootElement.GetProperty("x");
        Assert.Equal("\"", x.GetProperty("q").GetString());
        Assert.Equal("\\", x.GetProperty("b").GetString());
        Assert.Equal("]", x.GetProperty("c").GetString());
        Assert.Equal("\\n", x.GetProperty("n").GetString());
        Assert.Equal("\\[", x.GetProperty("o").GetString());
        Assert.Equal("a\\\"b", x.GetProperty("t").GetString());
    }

    [Fact]
    public void ARepeatedSdIdIsMergedIntoOneObject()
    {
        Assert.Equal("""{"a":{"x":"1","y":"2"},"b":{"z":"3"}}""", Parsed.SdJson("""[a x="1"][b z="3"][a y="2"]"""));
    }

    [Fact]
    public void ARepeatedParameterBecomesAnArrayOfItsValuesInLineOrder()
    {
        Assert.Equal(
            """{"a":{"ip":["10.0.0.1","10.0.0.2","10.0.0.3"],"x":"1"}}""",
            Parsed.SdJson("""[a ip="10.0.0.1" x="1" ip="10.0.0.2"][a ip="10.0.0.3"]"""));
    }

    [Fact]
    public void TheSameParameterNameUnderDifferentSdIdsIsNotMerged()
    {
        Assert.Equal("""{"a":{"x":"1"},"b":{"x":"2"}}""", Parsed.SdJson("""[a x="1"][b x="2"]"""));
    }

    [Fact]
    public void InvalidUtf8InAValueBecomesTheReplacementCharacter()
    {
        byte[] sd = [.. "[a v=\""u8, (byte)'o', 0xFF, (byte)'k', 0xC3, .. "\"]"u8];

        var value = JsonDocument.Parse(Parsed.SdJson(sd)).RootElement.GetProperty("a").GetProperty("v").GetString();

        Assert.Equal("o\uFFFDk\uFFFD", value);
    }

    [Fact]
    public void MultibyteUtf8InAValueIsKept()
    {
        var value = JsonDocument.Parse(Parsed.SdJson("[a v=\"Grüße ✓\"]")).RootElement.GetProperty("a").GetProperty("v").GetString();

        Assert.Equal("Grüße ✓", value);
    }

    [Fact]
    public void MalformedStructuredDataWritesEveryParameterReadBeforeTheFault()
    {
        const string Sd = """[a x="1"][b y="2" z=3][c w="4"]""";

        Assert.Equal("""{"a":{"x":"1"},"b":{"y":"2"}}""", Parsed.SdJson(Sd));
        Assert.False(StructuredData.IsWellFormed(Encoding.UTF8.GetBytes(Sd)));
    }

    [Theory]
    [InlineData("""[a x="1"]""")]
    [InlineData("""[a x="1"][b]""")]
    [InlineData("""[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]""")]
    [InlineData("""[a x=""]""")]
    [InlineData("""[a x="]"]""")]
    public void WellFormedStructuredDataIsRecognised(string sd)
    {
        Assert.True(StructuredData.IsWellFormed(Encoding.UTF8.GetBytes(sd)));
    }

    [Theory]
    [InlineData("[")]
    [InlineData("[]")]
    [InlineData("[a")]
    [InlineData("[a x]")]
    [InlineData("""[a x="1"] """)]
    [InlineData("""[a x="1"]junk""")]
    [InlineData("""[a x="1\"]""")]
    [InlineData("""[a x="1" ]""")]
    [InlineData("""[a ="1"]""")]
    [InlineData("""[a=b x="1"]""")]
    [InlineData("junk")]
    [InlineData("--")]
    public void MalformedStructuredDataIsRecognisedAndStillWritesValidJson(string sd)
    {
        var bytes = Encoding.UTF8.GetBytes(sd);

        Assert.False(StructuredData.IsWellFormed(bytes));
        using var _ = JsonDocument.Parse(Parsed.SdJson(bytes));
    }

    [Fact]
    public void SpacesBetweenTheEqualsSignAndTheQuotedValueAreASlipThatIsReadThrough()
    {
        var sd = """[exampleSDID@32473 iut="3" eventSource= "Application" eventID="1011"]""";

        Assert.True(StructuredData.IsWellFormed(Encoding.UTF8.GetBytes(sd)));
        Assert.Equal("""{"exampleSDID@32473":{"iut":"3","eventSource":"Application","eventID":"1011"}}""", Parsed.SdJson(sd));
    }

    [Theory]
    [InlineData("""[action:"Drop"; x:"a]b"] msg""", 24)]
    [InlineData("""[x@1 a=1] msg""", 9)]
    [InlineData("""[a b][c "d]" e] msg""", 15)]
    [InlineData("""[a x="1\] still"] msg""", 17)]
    [InlineData("""[a x=1]""", 7)]
    [InlineData("""[a x=1""", 0)]
    [InlineData("""[a x=1]junk""", 0)]
    [InlineData("""[a x="1]""", 0)]
    public void AnUnreadableBlockIsMeasuredToTheBracketThatClosesItOutsideQuotes(string text, int length)
    {
        Assert.Equal(length, StructuredDataBounds.MeasureUnreadableBlock(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void ManyParametersSpillFromTheStackToPooledArraysAndStayCorrect()
    {
        var sd = new StringBuilder();
        for (var e = 0; e < 40; e++)
        {
            sd.Append("[e").Append(N(e));
            for (var p = 0; p < 3; p++) sd.Append(" p").Append(N(p)).Append("=\"").Append(N(e)).Append('"');
            sd.Append(']');
        }

        var root = JsonDocument.Parse(Parsed.SdJson(sd.ToString())).RootElement;

        Assert.Equal(40, root.EnumerateObject().Count());
        Assert.Equal("39", root.GetProperty("e39").GetProperty("p2").GetString());
    }

    [Fact]
    public void ArbitraryBytesAlwaysWriteValidJson()
    {
        var property = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), sd => WritesValidJson(sd));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), property);
    }

    [Fact]
    public void StructuredDataShapedNoiseAlwaysWritesValidJson()
    {
        string[] fragments = ["[", "]", "\"", "\\", "=", " ", "a", "b@1", "x", "ü", "\uFFFF", "\0", "\\\"", "\\]", "\\\\"];
        var lines = Gen.ArrayOf(Gen.Elements(fragments)).Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)));
        var withBadBytes = Gen.Zip(lines, ArbMap.Default.ArbFor<byte[]>().Generator).Select(t => (byte[])[.. t.Item1, .. t.Item2, .. t.Item1]);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(3000), Prop.ForAll(lines.ToArbitrary(), sd => WritesValidJson(sd)));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000), Prop.ForAll(withBadBytes.ToArbitrary(), sd => WritesValidJson(sd)));
    }

    [Fact]
    public void AnyValueEscapedAsTheRfcSaysComesBackUnchanged()
    {
        var values = ArbMap.Default.ArbFor<string>().Generator.Select(s => (s ?? "").Replace('\uFFFE', 'x'))
            .Where(s => !HasLoneSurrogate(s));
        var property = Prop.ForAll(Gen.ArrayOf(values).ToArbitrary(), vals =>
        {
            var sd = new StringBuilder("[x@1");
            for (var i = 0; i < vals.Length; i++)
            {
                sd.Append(" p").Append(N(i)).Append("=\"")
                    .Append(vals[i].Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("]", "\\]", StringComparison.Ordinal))
                    .Append('"');
            }

            sd.Append(']');
            var bytes = Encoding.UTF8.GetBytes(sd.ToString());
            var element = JsonDocument.Parse(Parsed.SdJson(bytes)).RootElement.GetProperty("x@1");
            for (var i = 0; i < vals.Length; i++)
            {
                if (element.GetProperty("p" + N(i)).GetString() != vals[i]) return false;
            }

            return StructuredData.IsWellFormed(bytes);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000), property);
    }

    private static bool WritesValidJson(byte[] sd)
    {
        StructuredData.IsWellFormed(sd);
        using var doc = JsonDocument.Parse(Parsed.SdJson(sd));
        return doc.RootElement.ValueKind == JsonValueKind.Object;
    }

    private static bool HasLoneSurrogate(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else if (char.IsSurrogate(s[i])) return true;
        }

        return false;
    }

    private static string N(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
