using System.Buffers;
using System.Globalization;
using Pipeline.Core.Storage;

namespace Pipeline.Edge.Publishing.Spool;

/// <summary>
/// An append-only log of events on disk, in segment files (<see cref="SpoolFiles"/>). Appends are buffered and
/// written with one fsync per interval (group commit). One reader (the drainer, <see cref="SpoolReader"/>) reads
/// records in order and acknowledges them as Kafka does; a segment is deleted once it is sealed, fully read and
/// fully acknowledged, and each segment's acknowledged prefix is checkpointed beside it so that a restart re-sends
/// as little as possible. Start-up never trusts the files (<see cref="SpoolRecoveryScan"/>), and the edge starts
/// writing a new segment. Thread-safe: many appenders, one reader.
/// </summary>
internal sealed class SpoolLog : IDisposable
{
    private readonly SpoolOptions _options;
    private readonly SpoolFiles _files;
    private readonly SpoolSegments _segments;
    private readonly SpoolReader _reader;
    private readonly object _writeGate = new();
    private readonly FileStream _lock;
    private readonly ArrayBufferWriter<byte> _pending = new(256 * 1024);
    // Set by every append: the syncer sleeps on it while nothing waits to be written, instead of waking every
    // interval. No spinning before a wait (the spool is idle most of the time, and spinning on two cores costs).
    // Never disposed: without its wait handle ever asked for, it holds nothing but memory.
    private readonly ManualResetEventSlim _appendedSignal = new(false, spinCount: 0);
    private SpoolSegment _active;
    private FileStream _activeFile;
    private long _appended;
    private long _synced;
    private int _pendingRecords;

    public SpoolLog(SpoolOptions options)
    {
        _options = options;
        Directory.CreateDirectory(options.Directory);
        // One edge per spool: a second one would interleave segments and double-send.
        _lock = new FileStream(Path.Combine(options.Directory, "spool.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        _files = new SpoolFiles(options.Directory);
        _segments = new SpoolSegments(_files);
        Recovery = SpoolRecoveryScan.Run(_files, _segments);
        var next = _segments.Map.Count == 0 ? 1 : _segments.Map.Keys.Max() + 1;
        (_active, _activeFile) = OpenSegment(next);
        _segments.ReadSegment = _segments.Map.Keys.First();
        _reader = new SpoolReader(_segments, _files);
        _reader.SkipAckedPrefix();
    }

    public SpoolRecovery Recovery { get; }

    /// <summary>Bytes on disk (and in the write buffer).</summary>
    public long Bytes => _segments.Bytes;

    public long MaxBytes => _options.MaxBytes;

    /// <summary>How full the spool is, 0 to 1.</summary>
    public double Fill => (double)Bytes / _options.MaxBytes;

    /// <summary>Records appended by this process.</summary>
    public long Appended => Interlocked.Read(ref _appended);

    /// <summary>Records appended by this process and fsynced: what a crash cannot lose.</summary>
    public long Synced => Interlocked.Read(ref _synced);

    /// <summary>Set by every append (the syncer resets it before each look at the spool).</summary>
    internal ManualResetEventSlim AppendSignal => _appendedSignal;

    /// <summary>Whether records appended are not yet written and fsynced.</summary>
    public bool HasUnsynced
    {
        get
        {
            lock (_writeGate) return _pendingRecords > 0 || Synced != Appended;
        }
    }

    /// <summary>Records in the spool not yet acknowledged (including recovered ones).</summary>
    public long Unacknowledged
    {
        get
        {
            lock (_segments.Gate) return _segments.Map.Values.Sum(s => (long)(s.Count - s.AckedCount));
        }
    }

    /// <summary>Whether records are waiting to be read (written but not yet read).</summary>
    public bool HasUnread
    {
        get
        {
            lock (_segments.Gate)
            {
                var map = _segments.Map;
                if (!map.TryGetValue(_segments.ReadSegment, out var segment)) return false;
                return _reader.Index < segment.Count || map.Keys.Any(k => k > _segments.ReadSegment && map[k].Count > 0);
            }
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
            lock (_segments.Gate)
            {
                position = new SpoolPosition(_active.Sequence, _active.Count);
                _active.Count++;
            }
            _active.Length += size;
            _pendingRecords++;
            _segments.AddBytes(size);
            Interlocked.Increment(ref _appended);
            if (_pending.WrittenCount >= 192 * 1024) WritePending();
            _appendedSignal.Set();
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
    public bool TryReadNext(out SpoolRecord? record, out SpoolPosition position) => _reader.TryReadNext(out record, out position);

    /// <summary>Kafka acknowledged the record (or refused it for good): it need not be sent again.</summary>
    public void Acknowledge(SpoolPosition position)
    {
        lock (_segments.Gate)
        {
            if (!_segments.Map.TryGetValue(position.Segment, out var segment)) return;
            segment.Ack(position.Index);
            _segments.TryDelete(segment);
        }
    }

    /// <summary>Writes each segment's acknowledged prefix beside it, so a restart skips what Kafka already has.</summary>
    public void CheckpointAcknowledged()
    {
        List<(SpoolSegment Segment, int Prefix)> changed;
        lock (_segments.Gate)
            changed = _segments.Map.Values.Where(s => s.AckedPrefix != s.CheckpointedPrefix).Select(s => (s, s.AckedPrefix)).ToList();
        foreach (var (segment, prefix) in changed)
        {
            try
            {
                DurableFile.Replace(_files.AckedPath(segment.Sequence), System.Text.Encoding.ASCII.GetBytes(prefix.ToString(CultureInfo.InvariantCulture)));
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
        _reader.Dispose();
        _activeFile.Dispose();
        _lock.Dispose();
    }

    private void WritePending()
    {
        if (_pending.WrittenCount == 0) return;
        _activeFile.Write(_pending.WrittenSpan);
        _pending.ResetWrittenCount();
        _pendingRecords = 0;
        lock (_segments.Gate) _active.Written = _active.Length;
    }

    private void Roll()
    {
        WritePending();
        _activeFile.Flush(flushToDisk: true);
        InterlockedMax(ref _synced, Appended);
        _activeFile.Dispose();
        var sealing = _active;
        (_active, _activeFile) = OpenSegment(sealing.Sequence + 1);
        lock (_segments.Gate) sealing.Sealed = true;
        lock (_segments.Gate)
        {
            // A segment may be wholly acknowledged before it is sealed.
            foreach (var segment in _segments.Map.Values.ToList()) _segments.TryDelete(segment);
        }
    }

    private (SpoolSegment, FileStream) OpenSegment(long sequence)
    {
        var file = new FileStream(_files.SegmentPath(sequence), FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        var segment = new SpoolSegment(sequence);
        lock (_segments.Gate) _segments.Map[sequence] = segment;
        return (segment, file);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
