using System.Buffers;
using System.Text;
using Pipeline.Edge.Sources.Syslog.Framing;

namespace Pipeline.UnitTests.Edge.Syslog;

/// <summary>Feeding the syslog framer in tests: a buffer read to its end, and buffers made of separate segments.</summary>
internal static class FramerFeed
{
    /// <summary>A frame limit no test frame reaches.</summary>
    public const int Large = 64 * 1024;

    public static List<Frame> ReadAll(SyslogFrameReader reader, ReadOnlySequence<byte> buffer)
    {
        var frames = new List<Frame>();
        while (reader.TryReadFrame(ref buffer, out var frame, out var truncated)) frames.Add(new Frame(frame.ToArray(), truncated));
        while (reader.TryReadFinalFrame(ref buffer, out var frame, out var truncated)) frames.Add(new Frame(frame.ToArray(), truncated));
        Assert.True(buffer.IsEmpty);
        return frames;
    }

    public static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        if (parts.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1)) last = last.Append(part);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public sealed record Frame(byte[] Bytes, bool Truncated)
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
