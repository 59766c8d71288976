using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Edge.Sources.Syslog.Framing;
using static Pipeline.UnitTests.Edge.Syslog.FramerFeed;

namespace Pipeline.UnitTests.Edge.Syslog;

/// <summary>
/// The framer against whole streams: arbitrary and syslog-shaped bytes, and streams of known messages split at every
/// byte or fed through a pipe in pieces, which must come out as exactly the frames sent (or cut to the limit).
/// </summary>
public sealed class SyslogFrameReaderStreamTests
{
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
            return FedInPiecesYieldsExactly(messages, EncodeOctetCounted(messages), chunk, seed);
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
            return FedInPiecesYieldsExactly(messages, stream, chunk, seed);
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

    /// <summary>The stream fed in random pieces of at most <paramref name="chunk"/> bytes, by hand and through a pipe, gives exactly <paramref name="messages"/> both ways.</summary>
    private static bool FedInPiecesYieldsExactly(byte[][] messages, byte[] stream, int chunk, int seed)
    {
        var sizes = RandomChunkSizes(stream.Length, chunk, seed);
        return SameFrames(messages, FeedInChunks(stream, sizes, Large, out _))
            && SameFrames(messages, FeedThroughPipe(stream, sizes, Large));
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
}
