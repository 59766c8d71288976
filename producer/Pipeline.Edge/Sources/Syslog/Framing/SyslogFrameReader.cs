using System.Buffers;

namespace Pipeline.Edge.Sources.Syslog.Framing;

/// <summary>How a syslog TCP connection separates its messages (RFC 6587).</summary>
public enum FramingMode : byte
{
    /// <summary>No byte seen yet.</summary>
    Unknown = 0,
    /// <summary><c>MSG-LEN SP SYSLOG-MSG</c> (RFC 6587 §3.4.1, RFC 5425).</summary>
    OctetCounting = 1,
    /// <summary>Non-transparent framing: each message ends with LF (RFC 6587 §3.4.2); CRLF and NUL also end one.</summary>
    LineFeed = 2,
}

/// <summary>
/// Cuts one TCP connection's bytes into syslog frames, zero-copy over the <see cref="ReadOnlySequence{T}"/> a
/// <c>PipeReader</c> hands out. One instance per connection; not thread-safe.
/// </summary>
/// <remarks>
/// <para>The mode is chosen from the connection's first byte, as RFC 6587 §3.4 suggests: a digit means octet
/// counting, anything else LF framing, for the life of the connection.</para>
/// <para><b>LF mode.</b> A frame ends at LF or NUL; a CR before the LF is dropped, so CRLF works. Empty lines are
/// skipped silently. A line longer than the limit yields its first <c>maxFrameBytes</c> bytes with
/// <c>truncated</c> set, and the rest of that line is discarded as it arrives.</para>
/// <para><b>Octet counting.</b> LF, CR, NUL and spaces between frames are skipped (some senders add a newline after
/// each frame). MSG-LEN may have leading zeros and at most 10 digits. A frame longer than the limit yields its first
/// <c>maxFrameBytes</c> bytes with <c>truncated</c> set, and the rest of the announced length is skipped, across
/// later calls if need be. A header that is not digits followed by a space (a sender that switched to LF framing,
/// or garbage) counts in <see cref="MalformedFrames"/> and the rest of that line, header included, is returned as an
/// LF-framed frame; octet counting resumes after it, so nothing is dropped and the stream re-synchronises at the
/// next line. A zero MSG-LEN counts as malformed and yields an empty frame (the ingest counts it as empty).</para>
/// <para>Frames are slices of the buffer passed in: use them before advancing the pipe past them.</para>
/// </remarks>
public sealed class SyslogFrameReader
{
    private const int MaxLengthDigits = 10;
    private static ReadOnlySpan<byte> Terminators => "\n\0"u8;
    private static ReadOnlySpan<byte> Separators => " \r\n\0"u8;

    private readonly int _maxFrameBytes;
    // Bytes of an oversized octet-counted frame still to discard.
    private long _skipBytes;
    // An oversized line is being discarded up to its terminator.
    private bool _skipLine;
    // Octet counting met a bad header: the rest of this line is one LF-framed frame.
    private bool _lineOnce;

    public SyslogFrameReader(int maxFrameBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameBytes, 1);
        _maxFrameBytes = maxFrameBytes;
    }

    public FramingMode Mode { get; private set; }

    /// <summary>Octet-counted headers that were not a number, and zero lengths.</summary>
    public long MalformedFrames { get; private set; }

    /// <summary>
    /// Consumes one complete frame from the front of <paramref name="buffer"/> (advancing it). The frame excludes the
    /// length prefix or terminator. Returns false when <paramref name="buffer"/> holds no complete frame; bytes that
    /// can never be part of one (separators, skipped oversize data) are consumed even then.
    /// </summary>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame, out bool truncated)
    {
        frame = default;
        truncated = false;
        while (true)
        {
            if (!SkipDiscarded(ref buffer) || buffer.IsEmpty) return false;
            if (Mode == FramingMode.Unknown) Mode = IsDigit(FirstByte(buffer)) ? FramingMode.OctetCounting : FramingMode.LineFeed;

            Step step;
            if (Mode == FramingMode.LineFeed || _lineOnce)
            {
                step = ReadLine(ref buffer, out frame, out truncated);
                if (step == Step.Frame) _lineOnce = false;
            }
            else
            {
                step = ReadCounted(ref buffer, out frame, out truncated);
            }

            if (step == Step.Frame) return true;
            if (step == Step.NeedMore) return false;
        }
    }

    /// <summary>
    /// At the end of the stream: the next complete frame if there is one, else whatever is left as a final frame
    /// (an unterminated last line; an octet-counted frame cut short, with <paramref name="truncated"/> set; a bare
    /// header, counted as malformed). Call it until it returns false; it consumes everything.
    /// </summary>
    public bool TryReadFinalFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame, out bool truncated)
    {
        if (TryReadFrame(ref buffer, out frame, out truncated)) return true;
        if (buffer.IsEmpty) return false;

        var rest = buffer;
        buffer = buffer.Slice(buffer.End);
        if (_skipLine || _skipBytes > 0)
        {
            _skipLine = false;
            _skipBytes = 0;
            return false;
        }

        if (Mode == FramingMode.OctetCounting && !_lineOnce)
        {
            var reader = new SequenceReader<byte>(rest);
            reader.AdvancePastAny(Separators);
            rest = rest.Slice(reader.Position);
            if (rest.IsEmpty) return false;
            if (TryReadHeader(ref reader, out _) == Header.Complete)
            {
                // The announced length was longer than what arrived.
                rest = rest.Slice(reader.Position);
                truncated = true;
            }
            else
            {
                MalformedFrames++;
            }
        }
        else if (EndsWithCarriageReturn(rest))
        {
            rest = rest.Slice(0, rest.Length - 1);
        }

        _lineOnce = false;
        if (rest.IsEmpty) return false;
        if (rest.Length > _maxFrameBytes)
        {
            rest = rest.Slice(0, _maxFrameBytes);
            truncated = true;
        }

        frame = rest;
        return true;
    }

    private bool SkipDiscarded(ref ReadOnlySequence<byte> buffer)
    {
        if (_skipBytes > 0)
        {
            var n = Math.Min(_skipBytes, buffer.Length);
            buffer = buffer.Slice(n);
            _skipBytes -= n;
            if (_skipBytes > 0) return false;
        }

        if (_skipLine)
        {
            var reader = new SequenceReader<byte>(buffer);
            if (!reader.TryAdvanceToAny(Terminators))
            {
                buffer = buffer.Slice(buffer.End);
                return false;
            }

            buffer = buffer.Slice(reader.Position);
            _skipLine = false;
        }

        return true;
    }

    private Step ReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame, out bool truncated)
    {
        frame = default;
        truncated = false;
        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadToAny(out ReadOnlySequence<byte> line, Terminators, advancePastDelimiter: true))
        {
            buffer = buffer.Slice(reader.Position);
            if (EndsWithCarriageReturn(line)) line = line.Slice(0, line.Length - 1);
            if (line.IsEmpty) return Step.Skipped;
            truncated = line.Length > _maxFrameBytes;
            frame = truncated ? line.Slice(0, _maxFrameBytes) : line;
            return Step.Frame;
        }

        // No terminator yet. Past the limit the line is cut now (a CR as the only extra byte may still be a CRLF).
        var excess = buffer.Length - _maxFrameBytes;
        if (excess <= 0 || (excess == 1 && EndsWithCarriageReturn(buffer))) return Step.NeedMore;
        frame = buffer.Slice(0, _maxFrameBytes);
        truncated = true;
        buffer = buffer.Slice(buffer.End);
        _skipLine = true;
        return Step.Frame;
    }

    private Step ReadCounted(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame, out bool truncated)
    {
        frame = default;
        truncated = false;
        var reader = new SequenceReader<byte>(buffer);
        if (reader.AdvancePastAny(Separators) > 0)
        {
            buffer = buffer.Slice(reader.Position);
            if (buffer.IsEmpty) return Step.NeedMore;
        }

        switch (TryReadHeader(ref reader, out var length))
        {
            case Header.NeedMore:
                return Step.NeedMore;
            case Header.Malformed:
                MalformedFrames++;
                _lineOnce = true;
                return Step.Skipped;
        }

        if (length == 0)
        {
            // Not valid (MSG-LEN starts with a non-zero digit), but a frame all the same: yielded empty, so it is counted.
            MalformedFrames++;
            buffer = buffer.Slice(reader.Position);
            frame = buffer.Slice(0, 0);
            return Step.Frame;
        }

        var take = Math.Min(length, _maxFrameBytes);
        if (reader.Remaining < take) return Step.NeedMore;
        var body = buffer.Slice(reader.Position);
        frame = body.Slice(0, take);
        buffer = body.Slice(take);
        truncated = length > _maxFrameBytes;
        _skipBytes = length - take;
        return Step.Frame;
    }

    private static Header TryReadHeader(ref SequenceReader<byte> reader, out long length)
    {
        length = 0;
        var digits = 0;
        while (reader.TryPeek(out var b))
        {
            if (IsDigit(b))
            {
                if (++digits > MaxLengthDigits) return Header.Malformed;
                length = length * 10 + (b - '0');
                reader.Advance(1);
            }
            else if (b == ' ' && digits > 0)
            {
                reader.Advance(1);
                return Header.Complete;
            }
            else
            {
                return Header.Malformed;
            }
        }

        return Header.NeedMore;
    }

    // SequenceReader steps over empty segments, which FirstSpan would not.
    private static byte FirstByte(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.TryPeek(out var b);
        return b;
    }

    private static bool EndsWithCarriageReturn(in ReadOnlySequence<byte> s)
    {
        if (s.IsEmpty) return false;
        var reader = new SequenceReader<byte>(s.Slice(s.Length - 1));
        return reader.TryPeek(out var b) && b == '\r';
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private enum Step : byte
    {
        Frame,
        Skipped,
        NeedMore,
    }

    private enum Header : byte
    {
        Complete,
        Malformed,
        NeedMore,
    }
}
