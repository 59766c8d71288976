using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Appends hash-chained records to the open segment and commits them. A batch is staged in memory
/// (<see cref="StageEvent(ConsumedRecord, EcsDocument)"/>, <see cref="StageAlert"/>), then <see cref="Commit"/> writes it with one
/// write, fsyncs the segment, and only then replaces <c>checkpoint.json</c> (fsynced, atomically) with the
/// new committed length, chain head, offsets and detection state. The checkpoint is the commit point:
///
/// <list type="bullet">
/// <item>a crash before it leaves bytes after the committed length; at the next start they are cut
///   (whole lines and a torn last line alike, counted) and Kafka delivers those records again from the
///   checkpoint's offsets — so nothing is archived twice and nothing is missed;</item>
/// <item>a crash after it loses nothing: the data was on disk before the checkpoint named it.</item>
/// </list>
///
/// A segment is sealed between batches once it is big or old enough (<see cref="SegmentSealer"/>): its records are
/// read back and checked, a manifest is written (records, first and last offset per partition, final hash), a new
/// segment is created and the checkpoint moved to it. One process owns an archive folder (a lock file).
/// Not thread-safe: the sink serialises calls.
/// </summary>
internal sealed class ArchiveWriter : IDisposable
{
    private readonly string _directory;
    private readonly ArchiveOptions _options;
    private readonly TimeProvider _time;
    private readonly SiemMetrics _metrics;
    private readonly ILogger _log;
    private readonly FileStream _lock;
    private readonly RecordStager _stager = new();
    private readonly SegmentTags _tags = new();
    private Dictionary<PartitionKey, long> _offsets = [];
    private SafeFileHandle _segment = null!;
    private long _segmentIndex;
    private long _length;
    private DateTimeOffset _segmentOpenedAt;
    private Checkpoint _checkpoint = new();
    /// <summary>What the committed part of the open segment holds (the manifest's content when it is sealed).</summary>
    private SegmentTally _segmentTally = new();
    private readonly CommittedPosition _committed = new();
    private readonly SegmentSealer _sealer;

    private ArchiveWriter(ArchiveOptions options, TimeProvider time, SiemMetrics metrics, ILogger log, FileStream lockFile)
    {
        _options = options;
        _directory = Path.GetFullPath(options.Directory);
        _time = time;
        _metrics = metrics;
        _log = log;
        _lock = lockFile;
        _sealer = new SegmentSealer(_directory, time, metrics, log);
    }

    public string Directory => _directory;

    /// <summary>Next offset per partition, as committed.</summary>
    public IReadOnlyDictionary<PartitionKey, long> Offsets => _offsets;

    /// <summary>Detection state as committed.</summary>
    public DetectionState? DetectionState => _checkpoint.Detection;

    /// <summary>How far readers may read.</summary>
    public ArchivePosition Committed => _committed.Position;

    /// <summary>Completes at the next commit or seal (take it before looking at <see cref="Committed"/>).</summary>
    public Task NextCommit => _committed.Next;

    /// <summary>Records staged and not yet committed.</summary>
    public int Staged => (int)_stager.Staged.Records;

    /// <summary>Opens (or creates) the archive and recovers from an unfinished write.</summary>
    public static ArchiveWriter Open(ArchiveOptions options, TimeProvider time, SiemMetrics metrics, ILogger log)
    {
        var directory = Path.GetFullPath(options.Directory);
        var lockFile = ArchiveFolder.Claim(directory);
        var writer = new ArchiveWriter(options, time, metrics, log, lockFile);
        try
        {
            writer.Recover();
        }
        catch
        {
            writer.Dispose();
            throw;
        }
        SiemLog.ArchiveOpened(log, directory, writer._segmentIndex, writer._checkpoint.Seq, writer._offsets.Count);
        return writer;
    }

    private string ManifestPath(long index) => Path.Combine(_directory, ArchiveFormat.ManifestName(index));

    private void Recover()
    {
        (var checkpoint, _segmentTally, _segment) = new ArchiveRecovery(_directory, _metrics, _log).Recover(_time);
        Adopt(checkpoint);
        // The committed part was checked by the recovery; from now on it must stay as it is until the segment is sealed.
        _tags.AddFrom(_segment, _length);
        // Sealed, but the crash came before the next segment was opened.
        if (File.Exists(ManifestPath(_segmentIndex))) OpenNextSegment();
    }

    private void Adopt(Checkpoint checkpoint)
    {
        _checkpoint = checkpoint;
        _segmentIndex = checkpoint.Segment;
        _length = checkpoint.Length;
        _segmentOpenedAt = checkpoint.SegmentOpenedAt;
        _offsets = checkpoint.Offsets.ToDictionary(o => new PartitionKey(o.Topic, o.Partition), o => o.Next);
        _stager.Restart(checkpoint.Seq, checkpoint.Hash);
        _metrics.Seq.Set(checkpoint.Seq);
        Publish();
    }

    /// <summary>Stages an event read from Kafka.</summary>
    public void StageEvent(ConsumedRecord source, EcsDocument doc) => _stager.Stage(source, doc);

    /// <summary>Stages an event whose ECS document is written to JSON already.</summary>
    public void StageEvent(ConsumedRecord source, ReadOnlySpan<byte> docJson) => _stager.Stage(source, docJson);

    /// <summary>Stages an alert.</summary>
    public void StageAlert(EcsDocument doc) => _stager.Stage(null, doc);

    /// <summary>
    /// Makes the staged records durable and records <paramref name="nextOffsets"/> and the detection state
    /// with them (data fsync, then checkpoint). On failure nothing is committed and the staging is dropped.
    /// </summary>
    public void Commit(IReadOnlyDictionary<PartitionKey, long> nextOffsets, DetectionState? detection)
    {
        try
        {
            var bytes = _stager.Pending;
            if (bytes.Length > 0)
            {
                RandomAccess.Write(_segment, bytes, _length);
                RandomAccess.FlushToDisk(_segment);
            }
            var tags = _tags.Make(bytes);
            var offsets = new Dictionary<PartitionKey, long>(_offsets);
            foreach (var (key, next) in nextOffsets)
                if (!offsets.TryGetValue(key, out var known) || next > known) offsets[key] = next;
            var checkpoint = new Checkpoint
            {
                Segment = _segmentIndex,
                Length = _length + bytes.Length,
                Seq = _stager.Seq,
                Hash = ArchiveFormat.ToHex(_stager.Head),
                SegmentOpenedAt = _segmentOpenedAt,
                Offsets = offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition)
                    .Select(o => new PartitionOffset(o.Key.Topic, o.Key.Partition, o.Value)).ToList(),
                Detection = detection,
            };
            ArchiveCheckpoint.Write(_directory, checkpoint);

            var staged = _stager.Staged;
            _metrics.ArchivedEvents.Inc(staged.Events);
            _metrics.ArchivedAlerts.Inc(staged.Alerts);
            _metrics.ArchiveBytes.Inc(bytes.Length);
            _metrics.ArchiveBatches.Inc();
            _metrics.Seq.Set(_stager.Seq);
            _checkpoint = checkpoint;
            _length = checkpoint.Length;
            _offsets = offsets;
            _segmentTally.Add(staged);
            _tags.Append(tags);
            _stager.Restart(checkpoint.Seq, checkpoint.Hash);
            Publish();
        }
        catch
        {
            Abort();
            throw;
        }
    }

    /// <summary>Drops the staged records and cuts anything a failed commit wrote past the committed length.</summary>
    public void Abort()
    {
        _stager.Restart(_checkpoint.Seq, _checkpoint.Hash);
        try
        {
            if (RandomAccess.GetLength(_segment) > _length) RandomAccess.SetLength(_segment, _length);
        }
        catch (IOException)
        {
            // The next start cuts it: the checkpoint never named those bytes.
        }
    }

    /// <summary>Seals the open segment when it is big or old enough (and not empty). Call between batches.</summary>
    public bool RollIfDue()
    {
        if (!RollDue) return false;
        Seal();
        return true;
    }

    /// <summary>Whether the open segment is big or old enough to be sealed now (and holds something, and nothing is staged).</summary>
    public bool RollDue =>
        _length > 0 && Staged == 0 && (_length >= _options.SegmentMaxBytes || _time.GetUtcNow() - _segmentOpenedAt >= _options.SegmentMaxAge);

    private void Seal()
    {
        _sealer.Seal(_segmentIndex, _segment, _length, _tags, _segmentTally, _checkpoint, _segmentOpenedAt);
        OpenNextSegment();
    }

    private void OpenNextSegment()
    {
        var next = _segmentIndex + 1;
        var path = SegmentFile.PathOf(_directory, next);
        // Left by a crash or failure between creating it and the checkpoint that names it: nothing in it was committed.
        if (File.Exists(path)) File.Delete(path);
        var handle = SegmentFile.Create(_directory, next);
        var checkpoint = new Checkpoint
        {
            Segment = next,
            Length = 0,
            Seq = _checkpoint.Seq,
            Hash = _checkpoint.Hash,
            SegmentOpenedAt = _time.GetUtcNow(),
            Offsets = _checkpoint.Offsets,
            Detection = _checkpoint.Detection,
        };
        try
        {
            ArchiveCheckpoint.Write(_directory, checkpoint);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        _segment.Dispose();
        _segment = handle;
        _segmentIndex = next;
        _checkpoint = checkpoint;
        _length = 0;
        _segmentTally = new SegmentTally();
        _tags.Clear();
        _segmentOpenedAt = checkpoint.SegmentOpenedAt;
        Publish();
    }

    private void Publish()
    {
        _committed.Publish(new ArchivePosition(_segmentIndex, _length, _checkpoint.Seq));
    }

    public void Dispose()
    {
        _segment?.Dispose();
        _stager.Dispose();
        _tags.Dispose();
        _lock.Dispose();
    }
}
