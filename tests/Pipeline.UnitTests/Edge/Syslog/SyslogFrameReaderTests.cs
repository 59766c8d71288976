using System.Buffers;
using System.Text;
using Pipeline.Edge.Sources.Syslog.Framing;
using static Pipeline.UnitTests.Edge.Syslog.FramerFeed;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class SyslogFrameReaderTests
{
    [Theory]
    [InlineData("12 <13>1 - - -", FramingMode.OctetCounting)]
    [InlineData("0", FramingMode.OctetCounting)]
    [InlineData("<13>hello\n", FramingMode.LineFeed)]
    [InlineData("\n", FramingMode.LineFeed)]
    [InlineData(" 12 x", FramingMode.LineFeed)]
    public void TheModeIsDecidedByTheFirstByteOfTheConnection(string start, FramingMode mode)
    {
        var reader = new SyslogFrameReader(Large);
        var buffer = Seq(start);
        reader.TryReadFrame(ref buffer, out _, out _);

        Assert.Equal(mode, reader.Mode);
    }

    [Fact]
    public void NothingToReadLeavesTheModeUnknown()
    {
        var reader = new SyslogFrameReader(Large);
        var buffer = ReadOnlySequence<byte>.Empty;

        Assert.False(reader.TryReadFrame(ref buffer, out _, out _));
        Assert.False(reader.TryReadFinalFrame(ref buffer, out _, out _));
        Assert.Equal(FramingMode.Unknown, reader.Mode);
    }

    [Fact]
    public void LfFramingAcceptsLfCrLfAndNulTerminatorsAndSkipsEmptyLines()
    {
        var frames = ReadAll(new SyslogFrameReader(Large), Seq("a\nb\r\nc\0\n\r\n\0d\r\n"));

        Assert.Equal(["a", "b", "c", "d"], frames.Select(f => f.Text));
        Assert.All(frames, f => Assert.False(f.Truncated));
    }

    [Fact]
    public void AnIncompleteLineWaitsForMoreAndIsTheFinalFrameAtTheEnd()
    {
        var reader = new SyslogFrameReader(Large);
        var buffer = Seq("one\ntwo\r");

        Assert.True(reader.TryReadFrame(ref buffer, out var frame, out _));
        Assert.Equal("one", Text(frame));
        Assert.False(reader.TryReadFrame(ref buffer, out _, out _));
        Assert.Equal("two\r", Text(buffer));
        Assert.True(reader.TryReadFinalFrame(ref buffer, out frame, out var truncated));
        Assert.Equal("two", Text(frame));
        Assert.False(truncated);
        Assert.True(buffer.IsEmpty);
        Assert.False(reader.TryReadFinalFrame(ref buffer, out _, out _));
    }

    [Fact]
    public void AnOverlongLineIsCutAtTheLimitAndTheRestOfItIsDropped()
    {
        var frames = ReadAll(new SyslogFrameReader(4), Seq("abcdefgh\nxy\nabcd\n"));

        Assert.Equal([("abcd", true), ("xy", false), ("abcd", false)], frames.Select(f => (f.Text, f.Truncated)));
    }

    [Fact]
    public void AnOverlongLineIsCutAsSoonAsTheLimitIsPassedAndItsRestIsDroppedAcrossLaterReads()
    {
        var reader = new SyslogFrameReader(4);
        var buffer = Seq("abcde");

        Assert.True(reader.TryReadFrame(ref buffer, out var frame, out var truncated));
        Assert.Equal(("abcd", true), (Text(frame), truncated));
        Assert.True(buffer.IsEmpty);

        buffer = Seq("fgh");
        Assert.False(reader.TryReadFrame(ref buffer, out _, out _));
        Assert.True(buffer.IsEmpty);

        buffer = Seq("ij\nok\n");
        Assert.True(reader.TryReadFrame(ref buffer, out frame, out truncated));
        Assert.Equal(("ok", false), (Text(frame), truncated));
    }

    [Fact]
    public void ALineOfExactlyTheLimitWaitsForItsCrLfBeforeDeciding()
    {
        var reader = new SyslogFrameReader(4);
        var buffer = Seq("abcd\r");

        Assert.False(reader.TryReadFrame(ref buffer, out _, out _));
        buffer = Seq("abcd\r\n");
        Assert.True(reader.TryReadFrame(ref buffer, out var frame, out var truncated));
        Assert.Equal(("abcd", false), (Text(frame), truncated));
    }

    [Fact]
    public void OctetCountingReadsFramesBackToBackAndToleratesLineFeedsBetweenThem()
    {
        var reader = new SyslogFrameReader(Large);
        var frames = ReadAll(reader, Seq("5 hello3 abc\n\r\n4 a\nb 007 leading"));

        Assert.Equal(["hello", "abc", "a\nb ", "leading"], frames.Select(f => f.Text));
        Assert.Equal(0, reader.MalformedFrames);
    }

    [Fact]
    public void AnOversizedOctetCountedFrameIsCutAtTheLimitAndTheRestIsSkippedAcrossReads()
    {
        var reader = new SyslogFrameReader(4);
        var buffer = Seq("10 012");
        Assert.False(reader.TryReadFrame(ref buffer, out _, out _));

        buffer = Seq("10 012345");
        Assert.True(reader.TryReadFrame(ref buffer, out var frame, out var truncated));
        Assert.Equal(("0123", true), (Text(frame), truncated));
        Assert.Equal("45", Text(buffer));

        buffer = Seq("4567");
        Assert.False(reader.TryReadFrame(ref buffer, out _, out _));
        Assert.True(buffer.IsEmpty);

        buffer = Seq("893 abc");
        Assert.True(reader.TryReadFrame(ref buffer, out frame, out truncated));
        Assert.Equal(("abc", false), (Text(frame), truncated));
        Assert.Equal(0, reader.MalformedFrames);
    }

    [Fact]
    public void AnAbsurdTenDigitLengthIsTreatedAsOversizeAndSkipped()
    {
        var reader = new SyslogFrameReader(8);
        var frames = ReadAll(reader, Seq("9999999999 0123456789abcdef"));

        Assert.Equal([("01234567", true)], frames.Select(f => (f.Text, f.Truncated)));
        Assert.Equal(0, reader.MalformedFrames);
    }

    [Fact]
    public void ALengthOfMoreThanTenDigitsIsMalformedAndItsLineIsKeptAsAFrame()
    {
        var reader = new SyslogFrameReader(Large);
        var frames = ReadAll(reader, Seq("99999999999 junk\n3 abc"));

        Assert.Equal(["99999999999 junk", "abc"], frames.Select(f => f.Text));
        Assert.Equal(1, reader.MalformedFrames);
    }

    [Fact]
    public void AMalformedOctetCountIsCountedAndTheRestOfItsLineBecomesOneFrame()
    {
        var reader = new SyslogFrameReader(Large);
        var frames = ReadAll(reader, Seq("5 hello<13>sender switched framing\n12x not a length\n3 abc"));

        Assert.Equal(["hello", "<13>sender switched framing", "12x not a length", "abc"], frames.Select(f => f.Text));
        Assert.Equal(2, reader.MalformedFrames);
        Assert.Equal(FramingMode.OctetCounting, reader.Mode);
    }

    [Fact]
    public void AZeroLengthIsCountedAsMalformedAndYieldsAnEmptyFrameForTheLedger()
    {
        var reader = new SyslogFrameReader(Large);
        var frames = ReadAll(reader, Seq("0 5 hello"));

        Assert.Equal(["", "hello"], frames.Select(f => f.Text));
        Assert.Equal(1, reader.MalformedFrames);
    }

    [Fact]
    public void AnOctetCountedFrameCutShortByTheEndOfTheStreamIsReturnedAsTruncated()
    {
        var reader = new SyslogFrameReader(Large);
        var frames = ReadAll(reader, Seq("5 hello100 <13>only this"));

        Assert.Equal([("hello", false), ("<13>only this", true)], frames.Select(f => (f.Text, f.Truncated)));
    }

    [Fact]
    public void ABareLengthAtTheEndOfTheStreamIsCountedAsMalformedAndKept()
    {
        var reader = new SyslogFrameReader(Large);
        var frames = ReadAll(reader, Seq("5 hello\n42"));

        Assert.Equal(["hello", "42"], frames.Select(f => f.Text));
        Assert.Equal(1, reader.MalformedFrames);
    }

    [Fact]
    public void EmptySegmentsInTheSequenceAreHarmless()
    {
        var frames = ReadAll(new SyslogFrameReader(Large), Segments([], [], "5 he"u8.ToArray(), [], "llo2 "u8.ToArray(), [], "ab"u8.ToArray(), []));

        Assert.Equal(["hello", "ab"], frames.Select(f => f.Text));
    }

    private static ReadOnlySequence<byte> Seq(string text) => new(Encoding.UTF8.GetBytes(text));

    private static string Text(ReadOnlySequence<byte> s) => Encoding.UTF8.GetString(s.ToArray());
}
