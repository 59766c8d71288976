using Pipeline.Core.Storage;
using System.Buffers;
using System.Collections;
using System.Globalization;

namespace Pipeline.Edge.Publishing.Spool;

/// <summary>What start-up found in the spool.</summary>
internal sealed record SpoolRecovery(long Records, long DamagedBytes, int DamagedRegions, IReadOnlyDictionary<(string Listener, string Route), int> RecordsByCell);

/// <summary>
/// An append-only log of events on disk, in segment files <c>NNNNNNNNNNNNNNNN.spool</c>. Appends are
/// buffered and written with one fsync per interval (group commit). One reader (the drainer) reads records
/// in order and acknowledges them as Kafka does; a segment is deleted once it is sealed, fully read and
/// fully acknowledged, and each segment's acknowledged prefix is checkpointed beside it so that a restart
/// re-sends as little as possible. Start-up never trusts the files: every record's checksum is checked,
/// damaged bytes (a torn tail after a crash, flipped bits) are skipped and counted, and the edge starts
/// writing a new segment. Thread-safe: many appenders, one reader.
/// </summary>
internal sealed class SpoolLog : IDisposable
{
    private const string Extension = ".spool";
    private const string AckedExtension = ".acked";

    private readonly SpoolOptions _options;
    private readonly object _writeGate = new();
    private readonly object _segmentsGate = new();
    private readonly SortedDictionary<long, Segment> _segments = [];
    private readonly FileStream _lock;
    private readonly ArrayBufferWriter<byte> _pending = new(256 * 1024);
    private Segment _active;
    private FileStream _activeFile;
    private long _bytes;
    private long _appended;
    private long _synced;
    private int _pendingRecords;

    // Reader state (the drainer's thread only).
    private long _readSegment;
    private long _readOffset;
    private int _readIndex;
    private byte[] _readBuffer = new byte[1 << 20];
    private FileStream? _readFile;
    private long _readFileSegment;
    private long _bufferStart;
    private int _bufferLength;

    public SpoolLog(SpoolOptions options)
    {
        _options = options;
        Directory.CreateDirectory(options.Directory);
        // One edge per spool: a second one would interleave segments and double-send.
        _lock = new FileStream(Path.Combine(options.Directory, "spool.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        Recovery = RecoverExisting();
        var next = _segments.Count == 0 ? 1 : _segments.Keys.Max() + 1;
        (_active, _activeFile) = OpenSegment(next);
        _readSegment = _segments.Keys.First();
        SkipAckedPrefix();
    }

    public SpoolRecovery Recovery { get; }

    /// <summary>Bytes on disk (and in the write buffer).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public long MaxBytes => _options.MaxBytes;

    /// <summary>How full the spool is, 0 to 1.</summary>
    public double Fill => (double)Bytes / _options.MaxBytes;

    /// <summary>Records appended by this process.</summary>
    public long Appended => Interlocked.Read(ref _appended);

    /// <summary>Records appended by this process and fsynced: what a crash cannot lose.</summary>
    public long Synced => Interlocked.Read(ref _synced);

    /// <summary>Records in the spool not yet acknowledged (including recovered ones).</summary>
    public long Unacknowledged
    {
        get
        {
            lock (_segmentsGate) return _segments.Values.Sum(s => (long)(s.Count - s.AckedCount));
        }
    }

    /// <summary>Appends a record unless that would exceed <see cref="SpoolOptions.MaxBytes"/>.</summary>
    public bool TryAppend(SpoolRecord record, out SpoolPosition position) => TryAppend(record.AsEntry(), out position);

    public bool TryAppend(in SpoolEntry record, out SpoolPosition position)
    {
        var size = SpoolRecordFormat.SizeOf(record);
        lock (_writeGate)
        {
            if (Bytes + size > _options.MaxBytes)
            {
                position = default;
                return false;
            }
            if (_active.Length + size > _options.SegmentBytes && _active.Count > 0) Roll();
            SpoolRecordFormat.Write(record, _pending.GetSpan(size));
            _pending.Advance(size);
            lock (_segmentsGate)
            {
                position = new SpoolPosition(_active.Sequence, _active.Count);
                _active.Count++;
            }
            _active.Length += size;
            _pendingRecords++;
            Interlocked.Add(ref _bytes, size);
            Interlocked.Increment(ref _appended);
            if (_pending.WrittenCount >= 192 * 1024) WritePending();
            return true;
        }
    }

    /// <summary>Group commit: writes what was appended and fsyncs it. Called every <see cref="SpoolOptions.FsyncInterval"/>.</summary>
    public void Sync()
    {
        FileStream file;
        long appendedBefore;
        lock (_writeGate)
        {
            if (_pendingRecords == 0 && Synced == Appended) return;
            WritePending();
            file = _activeFile;
            appendedBefore = Appended;
        }
        try
        {
            file.Flush(flushToDisk: true);
        }
        catch (ObjectDisposedException)
        {
            // Rolled meanwhile: Roll() fsynced it before closing.
        }
        InterlockedMax(ref _synced, appendedBefore);
    }

    /// <summary>Reads the next record in order, if one has been written to the file. Reader thread only.</summary>
    public bool TryReadNext(out SpoolRecord? record, out SpoolPosition position)
    {
        record = null;
        position = default;
        while (true)
        {
            Segment segment;
            long readable;
            lock (_segmentsGate)
            {
                if (!_segments.TryGetValue(_readSegment, out segment!))
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
            lock (_segmentsGate)
            {
                if (!segment.Sealed || _readOffset < segment.Written) return false;
                segment.FullyRead = true;
                TryDelete(segment);
                if (!MoveToNextSegment()) return false;
            }
        }
    }

    /// <summary>Points the reader at the oldest segment after the current one, if there is one. Under the segment lock.</summary>
    private bool MoveToNextSegment()
    {
        var next = _segments.Keys.FirstOrDefault(k => k > _readSegment);
        if (next == 0) return false;
        _readSegment = next;
        _readOffset = 0;
        _readIndex = 0;
        SkipAckedPrefixLocked();
        return true;
    }

    /// <summary>Whether records are waiting to be read (written but not yet read).</summary>
    public bool HasUnread
    {
        get
        {
            lock (_segmentsGate)
            {
                if (!_segments.TryGetValue(_readSegment, out var segment)) return false;
                return _readIndex < segment.Count || _segments.Keys.Any(k => k > _readSegment && _segments[k].Count > 0);
            }
        }
    }

    /// <summary>Kafka acknowledged the record (or refused it for good): it need not be sent again.</summary>
    public void Acknowledge(SpoolPosition position)
    {
        lock (_segmentsGate)
        {
            if (!_segments.TryGetValue(position.Segment, out var segment)) return;
            segment.Ack(position.Index);
            TryDelete(segment);
        }
    }

    /// <summary>Writes each segment's acknowledged prefix beside it, so a restart skips what Kafka already has.</summary>
    public void CheckpointAcknowledged()
    {
        List<(Segment Segment, int Prefix)> changed;
        lock (_segmentsGate)
            changed = _segments.Values.Where(s => s.AckedPrefix != s.CheckpointedPrefix).Select(s => (s, s.AckedPrefix)).ToList();
        foreach (var (segment, prefix) in changed)
        {
            try
            {
                DurableFile.Replace(AckedPath(segment.Sequence), System.Text.Encoding.ASCII.GetBytes(prefix.ToString(CultureInfo.InvariantCulture)));
                segment.CheckpointedPrefix = prefix;
            }
            catch (IOException)
            {
                // The segment was deleted meanwhile; nothing left to checkpoint.
            }
        }
    }

    public void Dispose()
    {
        Sync();
        CheckpointAcknowledged();
        _readFile?.Dispose();
        _activeFile.Dispose();
        _lock.Dispose();
    }

    private void WritePending()
    {
        if (_pending.WrittenCount == 0) return;
        _activeFile.Write(_pending.WrittenSpan);
        _pending.ResetWrittenCount();
        _pendingRecords = 0;
        lock (_segmentsGate) _active.Written = _active.Length;
    }

    private void Roll()
    {
        WritePending();
        _activeFile.Flush(flushToDisk: true);
        InterlockedMax(ref _synced, Appended);
        _activeFile.Dispose();
        var sealing = _active;
        (_active, _activeFile) = OpenSegment(sealing.Sequence + 1);
        lock (_segmentsGate) sealing.Sealed = true;
        lock (_segmentsGate)
        {
            // A segment may be wholly acknowledged before it is sealed.
            foreach (var segment in _segments.Values.ToList()) TryDelete(segment);
        }
    }

    private (Segment, FileStream) OpenSegment(long sequence)
    {
        var file = new FileStream(SegmentPath(sequence), FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        var segment = new Segment(sequence);
        lock (_segmentsGate) _segments[sequence] = segment;
        return (segment, file);
    }

    private void TryDelete(Segment segment)
    {
        if (!segment.Sealed || segment.AckedCount < segment.Count) return;
        if (segment.Sequence == _readSegment && !segment.FullyRead) return;
        _segments.Remove(segment.Sequence);
        Interlocked.Add(ref _bytes, -segment.Length);
        File.Delete(SegmentPath(segment.Sequence));
        File.Delete(AckedPath(segment.Sequence));
    }

    private bool ReadAt(Segment segment, long readable, out SpoolRecord? record, out int length)
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
                    var next = NextMagic(window[1..]);
                    _readOffset += next < 0 ? Math.Max(1, window.Length - 3) : next + 1;
                    continue;
            }
        }
        return false;
    }

    /// <summary>The bytes of the reader's segment from the read offset on, from a window read in large chunks.</summary>
    private ReadOnlySpan<byte> Window(Segment segment, long readable)
    {
        if (_readFile is null || _readFileSegment != segment.Sequence)
        {
            _readFile?.Dispose();
            _readFile = new FileStream(SegmentPath(segment.Sequence), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
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

    private void SkipAckedPrefix()
    {
        lock (_segmentsGate) SkipAckedPrefixLocked();
    }

    /// <summary>Skips the records of the reader's segment that an earlier run checkpointed as acknowledged.</summary>
    private void SkipAckedPrefixLocked()
    {
        if (!_segments.TryGetValue(_readSegment, out var segment) || segment.AckedPrefix == 0 || _readIndex > 0) return;
        var skip = segment.AckedPrefix;
        var readable = segment.Written;
        while (_readIndex < skip && ReadAt(segment, readable, out _, out var length))
        {
            _readOffset += length;
            _readIndex++;
        }
    }

    /// <summary>Scans the segments a previous run left: counts good records per ledger cell and damaged bytes.</summary>
    private SpoolRecovery RecoverExisting()
    {
        var byCell = new Dictionary<(string, string), int>();
        long records = 0, damagedBytes = 0;
        var damagedRegions = 0;
        foreach (var path in Directory.GetFiles(_options.Directory, "*" + Extension).Order(StringComparer.Ordinal))
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)) continue;
            byte[] data;
            try
            {
                data = File.ReadAllBytes(path);
            }
            catch (IOException)
            {
                File.Move(path, path + ".unreadable", overwrite: true);
                continue;
            }
            var segment = new Segment(sequence) { Sealed = true, Length = data.Length, Written = data.Length };
            var acked = ReadAckedPrefix(sequence);
            var offset = 0;
            while (offset < data.Length)
            {
                var result = SpoolRecordFormat.TryRead(data.AsSpan(offset), out var record, out var length);
                if (result == ReadResult.Record)
                {
                    if (segment.Count >= acked)
                    {
                        var cell = (record!.Listener, record.Route);
                        byCell[cell] = byCell.GetValueOrDefault(cell) + 1;
                        records++;
                    }
                    segment.Count++;
                    offset += length;
                    continue;
                }
                damagedRegions++;
                if (result == ReadResult.Incomplete)
                {
                    damagedBytes += data.Length - offset;
                    break;
                }
                var next = NextMagic(data.AsSpan(offset + 1));
                var skipped = next < 0 ? data.Length - offset : next + 1;
                damagedBytes += skipped;
                offset += skipped;
            }
            segment.AckAll(Math.Min(acked, segment.Count));
            segment.CheckpointedPrefix = segment.AckedPrefix;
            if (segment.Count == 0 || segment.AckedCount == segment.Count)
            {
                File.Delete(path);
                File.Delete(AckedPath(sequence));
                continue;
            }
            _segments[sequence] = segment;
            _bytes += data.Length;
        }
        return new SpoolRecovery(records, damagedBytes, damagedRegions, byCell);
    }

    private int ReadAckedPrefix(long sequence)
    {
        try
        {
            return int.TryParse(File.ReadAllText(AckedPath(sequence)), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static int NextMagic(ReadOnlySpan<byte> data) => data.IndexOf("SPL1"u8);

    private string SegmentPath(long sequence) => Path.Combine(_options.Directory, sequence.ToString("D16", CultureInfo.InvariantCulture) + Extension);

    private string AckedPath(long sequence) => Path.Combine(_options.Directory, sequence.ToString("D16", CultureInfo.InvariantCulture) + AckedExtension);

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>One segment file's bookkeeping. Guarded by the log's segment lock.</summary>
    private sealed class Segment(long sequence)
    {
        private readonly BitArray _acked = new(1024);

        public long Sequence { get; } = sequence;
        public int Count { get; set; }
        public long Length { get; set; }
        /// <summary>Bytes handed to the OS: what a reader may read.</summary>
        public long Written { get; set; }
        public bool Sealed { get; set; }
        public bool FullyRead { get; set; }
        public int AckedCount { get; private set; }
        /// <summary>Records 0..AckedPrefix-1 are all acknowledged.</summary>
        public int AckedPrefix { get; private set; }
        public int CheckpointedPrefix { get; set; }

        public void Ack(int index)
        {
            if (index >= _acked.Length) _acked.Length = Math.Max(index + 1, _acked.Length * 2);
            if (_acked[index]) return;
            _acked[index] = true;
            AckedCount++;
            while (AckedPrefix < _acked.Length && _acked[AckedPrefix]) AckedPrefix++;
        }

        public void AckAll(int prefix)
        {
            for (var i = 0; i < prefix; i++) Ack(i);
        }
    }
}
