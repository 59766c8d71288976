using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Edge.Sources.Syslog.Framing;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class SyslogFrameReaderTests
{
    private const int Large = 64 * 1024;

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

    [Fact]
    public void ArbitraryBytesNeverCrashTheFramerAndNoFrameExceedsTheLimit()
    {
        var inputs = Gen.Zip(Gen.Zip(ArbMap.Default.ArbFor<byte[]>().Generator, Gen.Choose(1, 40)), Gen.Choose(1, 16));
        var property = Prop.ForAll(inputs.ToArbitrary(), t =>
        {
            var ((bytes, max), chunk) = t;
            var frames = FeedInChunks(bytes, ChunkSizes(bytes.Length, chunk), max, out var reader);
            // An empty frame is only ever a zero MSG-LEN, which also counts as malformed.
            return frames.All(f => f.Bytes.Length <= max) && frames.Count(f => f.Bytes.Length == 0) <= reader.MalformedFrames
                && frames.Sum(f => f.Bytes.Length) <= bytes.Length;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), property);
    }

    [Fact]
    public void SyslogShapedNoiseNeverCrashesTheFramer()
    {
        string[] fragments = ["1", "0", "9", "12", " ", "\n", "\r", "\0", "<13>", "abc", "99999999999", "5 hello"];
        var inputs = Gen.Zip(Gen.ArrayOf(Gen.Elements(fragments)).Select(p => Encoding.ASCII.GetBytes(string.Concat(p))), Gen.Choose(1, 12));
        var property = Prop.ForAll(inputs.ToArbitrary(), t =>
        {
            var frames = FeedInChunks(t.Item1, ChunkSizes(t.Item1.Length, 3), t.Item2, out _);
            return frames.All(f => f.Bytes.Length <= t.Item2);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), property);
    }

    [Fact]
    public void AnOctetCountedStreamSplitAtEveryByteYieldsExactlyTheMessagesSent()
    {
        var property = Prop.ForAll(OctetMessages().ToArbitrary(), messages =>
        {
            var stream = EncodeOctetCounted(messages);
            for (var split = 0; split <= stream.Length; split++)
            {
                var reader = new SyslogFrameReader(Large);
                var frames = ReadAll(reader, Segments(stream[..split], stream[split..]));
                if (!SameFrames(messages, frames) || reader.MalformedFrames != 0) return false;
            }

            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), property);
    }

    [Fact]
    public void AnOctetCountedStreamFedInPiecesAsAPipeWouldYieldsExactlyTheMessagesSent()
    {
        var inputs = Gen.Zip(Gen.Zip(OctetMessages(), Gen.Choose(1, 20)), Gen.Choose(0, int.MaxValue));
        var property = Prop.ForAll(inputs.ToArbitrary(), t =>
        {
            var ((messages, chunk), seed) = t;
            var stream = EncodeOctetCounted(messages);
            var sizes = RandomChunkSizes(stream.Length, chunk, seed);
            return SameFrames(messages, FeedInChunks(stream, sizes, Large, out _))
                && SameFrames(messages, FeedThroughPipe(stream, sizes, Large));
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Fact]
    public void AnLfFramedStreamSplitAtEveryByteYieldsExactlyTheLinesSent()
    {
        var property = Prop.ForAll(LfMessages().ToArbitrary(), t =>
        {
            var (messages, stream) = t;
            for (var split = 0; split <= stream.Length; split++)
            {
                var frames = ReadAll(new SyslogFrameReader(Large), Segments(stream[..split], stream[split..]));
                if (!SameFrames(messages, frames)) return false;
            }

            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), property);
    }

    [Fact]
    public void AnLfFramedStreamFedInPiecesAsAPipeWouldYieldsExactlyTheLinesSent()
    {
        var inputs = Gen.Zip(Gen.Zip(LfMessages(), Gen.Choose(1, 20)), Gen.Choose(0, int.MaxValue));
        var property = Prop.ForAll(inputs.ToArbitrary(), t =>
        {
            var (((messages, stream), chunk), seed) = t;
            var sizes = RandomChunkSizes(stream.Length, chunk, seed);
            return SameFrames(messages, FeedInChunks(stream, sizes, Large, out _))
                && SameFrames(messages, FeedThroughPipe(stream, sizes, Large));
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Fact]
    public void OversizedOctetCountedFramesAreCutToTheLimitWhereverTheStreamIsSplit()
    {
        const int Max = 8;
        var property = Prop.ForAll(OctetMessages().ToArbitrary(), messages =>
        {
            var stream = EncodeOctetCounted(messages);
            var expected = messages.Select(m => m.Length > Max ? m[..Max] : m).ToArray();
            for (var split = 0; split <= stream.Length; split++)
            {
                var frames = ReadAll(new SyslogFrameReader(Max), Segments(stream[..split], stream[split..]));
                if (!SameFrames(expected, frames)) return false;
                if (!frames.Select(f => f.Truncated).SequenceEqual(messages.Select(m => m.Length > Max))) return false;
            }

            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), property);
    }

    [Fact]
    public void OverlongLinesAreCutToTheLimitWhereverTheStreamIsSplit()
    {
        const int Max = 8;
        var property = Prop.ForAll(LfMessages().ToArbitrary(), t =>
        {
            var (messages, stream) = t;
            var expected = messages.Select(m => m.Length > Max ? m[..Max] : m).ToArray();
            var sizes = RandomChunkSizes(stream.Length, 5, stream.Length);
            return SameFrames(expected, FeedInChunks(stream, sizes, Max, out _));
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    private static Gen<byte[]> Bytes(int minLength, int maxLength) =>
        Gen.Choose(minLength, maxLength).SelectMany(n => Gen.ArrayOf(ArbMap.Default.ArbFor<byte>().Generator, n));

    /// <summary>Up to 6 messages of 1–40 arbitrary bytes.</summary>
    private static Gen<byte[][]> OctetMessages() => Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(Bytes(1, 40), n));

    /// <summary>
    /// Lines without terminators inside, each followed by LF, CRLF or NUL; the last maybe by nothing. The stream never
    /// starts with a digit, which would make it octet-counted.
    /// </summary>
    private static Gen<(byte[][] Messages, byte[] Stream)> LfMessages()
    {
        var line = Bytes(1, 30).Select(b =>
        {
            var clean = b.Select(x => x is (byte)'\n' or 0 ? (byte)'x' : x).ToArray();
            if (clean[^1] == '\r') clean[^1] = (byte)'y';
            return clean;
        });
        var terminated = Gen.Zip(line, Gen.Elements("\n", "\r\n", "\0"));
        var lines = Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(terminated, n));
        return Gen.Zip(lines, Gen.Elements(true, false)).Select(t =>
        {
            var (all, lastUnterminated) = t;
            if (all.Length > 0 && char.IsAsciiDigit((char)all[0].Item1[0])) all[0].Item1[0] = (byte)'L';
            var stream = new List<byte>();
            for (var i = 0; i < all.Length; i++)
            {
                stream.AddRange(all[i].Item1);
                if (!(lastUnterminated && i == all.Length - 1)) stream.AddRange(Encoding.ASCII.GetBytes(all[i].Item2));
            }

            return (all.Select(l => l.Item1).ToArray(), stream.ToArray());
        });
    }

    private static byte[] EncodeOctetCounted(byte[][] messages)
    {
        var stream = new List<byte>();
        foreach (var m in messages)
        {
            stream.AddRange(Encoding.ASCII.GetBytes(m.Length.ToString(CultureInfo.InvariantCulture) + " "));
            stream.AddRange(m);
        }

        return stream.ToArray();
    }

    private static bool SameFrames(byte[][] expected, List<Frame> frames) =>
        expected.Length == frames.Count && expected.Zip(frames).All(p => p.First.AsSpan().SequenceEqual(p.Second.Bytes));

    private static int[] ChunkSizes(int length, int chunk)
    {
        var sizes = new List<int>();
        for (var done = 0; done < length; done += chunk) sizes.Add(Math.Min(chunk, length - done));
        return [.. sizes];
    }

    private static int[] RandomChunkSizes(int length, int maxChunk, int seed)
    {
        var random = new Random(seed);
        var sizes = new List<int>();
        for (var done = 0; done < length;)
        {
            var n = Math.Min(random.Next(1, maxChunk + 1), length - done);
            sizes.Add(n);
            done += n;
        }

        return [.. sizes];
    }

    /// <summary>Delivers the stream chunk by chunk, each chunk its own segment, keeping what the reader left unconsumed.</summary>
    private static List<Frame> FeedInChunks(byte[] stream, int[] sizes, int max, out SyslogFrameReader reader)
    {
        reader = new SyslogFrameReader(max);
        var frames = new List<Frame>();
        var pending = new List<byte[]>();
        var offset = 0;
        foreach (var size in sizes)
        {
            pending.Add(stream[offset..(offset + size)]);
            offset += size;
            var buffer = Segments([.. pending]);
            var total = buffer.Length;
            while (reader.TryReadFrame(ref buffer, out var frame, out var truncated)) frames.Add(new Frame(frame.ToArray(), truncated));
            Consume(pending, total - buffer.Length);
        }

        var rest = Segments([.. pending]);
        while (reader.TryReadFinalFrame(ref rest, out var frame, out var truncated)) frames.Add(new Frame(frame.ToArray(), truncated));
        return frames;
    }

    /// <summary>The way the TCP source will use it: a real <see cref="Pipe"/>, AdvanceTo(consumed, examined).</summary>
    private static List<Frame> FeedThroughPipe(byte[] stream, int[] sizes, int max)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 16, pauseWriterThreshold: 0, useSynchronizationContext: false));
        var reader = new SyslogFrameReader(max);
        var frames = new List<Frame>();
        var offset = 0;
        foreach (var size in sizes)
        {
            pipe.Writer.Write(stream.AsSpan(offset, size));
            offset += size;
            pipe.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
            Assert.True(pipe.Reader.TryRead(out var result));
            var buffer = result.Buffer;
            while (reader.TryReadFrame(ref buffer, out var frame, out var truncated)) frames.Add(new Frame(frame.ToArray(), truncated));
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }

        pipe.Writer.Complete();
        if (pipe.Reader.TryRead(out var last))
        {
            var buffer = last.Buffer;
            while (reader.TryReadFinalFrame(ref buffer, out var frame, out var truncated)) frames.Add(new Frame(frame.ToArray(), truncated));
            pipe.Reader.AdvanceTo(buffer.End);
        }

        pipe.Reader.Complete();
        return frames;
    }

    private static void Consume(List<byte[]> pending, long count)
    {
        while (count > 0)
        {
            if (pending[0].Length <= count)
            {
                count -= pending[0].Length;
                pending.RemoveAt(0);
            }
            else
            {
                pending[0] = pending[0][(int)count..];
                count = 0;
            }
        }
    }

    private static List<Frame> ReadAll(SyslogFrameReader reader, ReadOnlySequence<byte> buffer)
    {
        var frames = new List<Frame>();
        while (reader.TryReadFrame(ref buffer, out var frame, out var truncated)) frames.Add(new Frame(frame.ToArray(), truncated));
        while (reader.TryReadFinalFrame(ref buffer, out var frame, out var truncated)) frames.Add(new Frame(frame.ToArray(), truncated));
        Assert.True(buffer.IsEmpty);
        return frames;
    }

    private static ReadOnlySequence<byte> Seq(string text) => new(Encoding.UTF8.GetBytes(text));

    private static string Text(ReadOnlySequence<byte> s) => Encoding.UTF8.GetString(s.ToArray());

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        if (parts.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1)) last = last.Append(part);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed record Frame(byte[] Bytes, bool Truncated)
    {
        public string Text => Encoding.UTF8.GetString(Bytes);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
