namespace Pipeline.Edge.Publishing.Spool;

/// <summary>
/// The spool's one reader (the drainer's thread): reads records in order, segment after segment, from a window read
/// in large chunks; skips what an earlier run checkpointed as acknowledged and bytes that are damaged.
/// </summary>
internal sealed class SpoolReader(SpoolSegments segments, SpoolFiles files) : IDisposable
{
    private long _readOffset;
    private int _readIndex;
    private byte[] _readBuffer = new byte[1 << 20];
    private FileStream? _readFile;
    private long _readFileSegment;
    private long _bufferStart;
    private int _bufferLength;

    /// <summary>Records of the reader's segment read so far. Under the segment lock.</summary>
    public int Index => _readIndex;

    /// <summary>Reads the next record in order, if one has been written to the file.</summary>
    public bool TryReadNext(out SpoolRecord? record, out SpoolPosition position)
    {
        record = null;
        position = default;
        while (true)
        {
            SpoolSegment segment;
            long readable;
            lock (segments.Gate)
            {
                if (!segments.Map.TryGetValue(segments.ReadSegment, out segment!))
                {
                    // Finished and deleted before its successor existed (a roll in progress): move on once it does.
                    if (!MoveToNextSegment()) return false;
                    continue;
                }
                readable = segment.Written;
            }
            if (_readOffset < readable && ReadAt(segment, readable, out record, out var length))
            {
                position = new SpoolPosition(segment.Sequence, _readIndex);
                _readOffset += length;
                _readIndex++;
                return true;
            }
            // Nothing more in this segment: move on only once it is sealed and wholly read.
            lock (segments.Gate)
            {
                if (!segment.Sealed || _readOffset < segment.Written) return false;
                segment.FullyRead = true;
                segments.TryDelete(segment);
                if (!MoveToNextSegment()) return false;
            }
        }
    }

    /// <summary>Skips the records of the reader's segment that an earlier run checkpointed as acknowledged.</summary>
    public void SkipAckedPrefix()
    {
        lock (segments.Gate) SkipAckedPrefixLocked();
    }

    public void Dispose() => _readFile?.Dispose();

    /// <summary>Points the reader at the oldest segment after the current one, if there is one. Under the segment lock.</summary>
    private bool MoveToNextSegment()
    {
        var next = segments.Map.Keys.FirstOrDefault(k => k > segments.ReadSegment);
        if (next == 0) return false;
        segments.ReadSegment = next;
        _readOffset = 0;
        _readIndex = 0;
        SkipAckedPrefixLocked();
        return true;
    }

    private void SkipAckedPrefixLocked()
    {
        if (!segments.Map.TryGetValue(segments.ReadSegment, out var segment) || segment.AckedPrefix == 0 || _readIndex > 0) return;
        var skip = segment.AckedPrefix;
        var readable = segment.Written;
        while (_readIndex < skip && ReadAt(segment, readable, out _, out var length))
        {
            _readOffset += length;
            _readIndex++;
        }
    }

    private bool ReadAt(SpoolSegment segment, long readable, out SpoolRecord? record, out int length)
    {
        record = null;
        length = 0;
        while (_readOffset < readable)
        {
            var window = Window(segment, readable);
            switch (SpoolRecordFormat.TryRead(window, out record, out length))
            {
                case ReadResult.Record:
                    return true;
                case ReadResult.Incomplete when _readOffset + window.Length < readable || window.Length == _readBuffer.Length:
                    // The record runs past the window: refill from here (growing the buffer for a large record).
                    if (window.Length == _readBuffer.Length) Array.Resize(ref _readBuffer, _readBuffer.Length * 2);
                    _bufferLength = 0;
                    continue;
                case ReadResult.Incomplete:
                    // A torn tail (counted at start-up) or the writer is mid-record: nothing more for now.
                    if (segment.Sealed) _readOffset = readable;
                    return false;
                default:
                    // Damaged bytes (counted at start-up): skip to the next record.
                    var next = SpoolFiles.NextMagic(window[1..]);
                    _readOffset += next < 0 ? Math.Max(1, window.Length - 3) : next + 1;
                    continue;
            }
        }
        return false;
    }

    /// <summary>The bytes of the reader's segment from the read offset on, from a window read in large chunks.</summary>
    private ReadOnlySpan<byte> Window(SpoolSegment segment, long readable)
    {
        if (_readFile is null || _readFileSegment != segment.Sequence)
        {
            _readFile?.Dispose();
            _readFile = new FileStream(files.SegmentPath(segment.Sequence), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            _readFileSegment = segment.Sequence;
            _bufferLength = 0;
        }
        var start = _readOffset - _bufferStart;
        if (_bufferLength == 0 || start < 0 || start >= _bufferLength || _bufferStart + _bufferLength < readable && _bufferLength - start < SpoolRecordFormat.HeaderBytes)
        {
            var want = (int)Math.Min(_readBuffer.Length, readable - _readOffset);
            _readFile.Position = _readOffset;
            _bufferLength = _readFile.ReadAtLeast(_readBuffer.AsSpan(0, want), want, throwOnEndOfStream: false);
            _bufferStart = _readOffset;
            start = 0;
        }
        return _readBuffer.AsSpan((int)start, (int)Math.Min(_bufferLength - start, readable - _readOffset));
    }
}
