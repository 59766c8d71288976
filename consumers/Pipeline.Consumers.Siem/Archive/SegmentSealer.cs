using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Pipeline.Core.Storage;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Seals a segment: checks that its bytes are still what was committed and writes its manifest (records, first and
/// last offset per partition, final hash). Kept apart from <see cref="ArchiveWriter"/>'s append path: it runs once per
/// segment, between batches, and is where a segment's committed bytes are checked again before they are made final.
/// </summary>
internal sealed class SegmentSealer(string directory, TimeProvider time, SiemMetrics metrics, ILogger log)
{
    /// <summary>Writes the manifest of segment <paramref name="index"/>, whose first <paramref name="length"/> bytes are committed.</summary>
    public void Seal(long index, SafeFileHandle segment, long length, SegmentTags tags, SegmentTally committed, Checkpoint checkpoint, DateTimeOffset openedAt)
    {
        var name = ArchiveFormat.SegmentName(index);
        var path = SegmentFile.PathOf(directory, index);
        var tally = committed;
        var finalHash = checkpoint.Hash;
        // Refuse to seal what is no longer what was committed (someone may have altered the open segment under us):
        // the bytes on disk must match the keyed tags made as they were committed. The manifest is the tally of what
        // was committed, which those bytes then are; the full check says what is wrong when they are not.
        if (!tags.Match(segment, length))
        {
            var (stats, problem) = ArchiveVerifier.CheckSegment(path, length, null, ArchiveRecovery.FirstSeqOf(path, checkpoint));
            if (problem is null && stats.Records > 0 && stats.FinalHash != checkpoint.Hash)
                problem = new ArchiveProblem(name, stats.Lines, "edited", "the records chain, but not to the head this writer committed: they were rewritten");
            if (problem is not null) throw new InvalidDataException($"cannot seal {name}: {problem}");
            tally = SegmentTally.From(stats);
            finalHash = stats.FinalHash;
        }
        var manifest = new SegmentManifest
        {
            Segment = name,
            Records = tally.Records,
            Events = tally.Events,
            Alerts = tally.Alerts,
            FirstSeq = tally.FirstSeq,
            LastSeq = tally.LastSeq,
            FirstPrev = tally.FirstPrev,
            FinalHash = finalHash,
            Bytes = length,
            OpenedAt = openedAt,
            SealedAt = time.GetUtcNow(),
            Partitions = tally.Partitions,
        };
        DurableFile.Replace(Path.Combine(directory, ArchiveFormat.ManifestName(index)), JsonSerializer.SerializeToUtf8Bytes(manifest, ArchiveJson.Default.SegmentManifest));
        metrics.SegmentsSealed.Inc();
        SiemLog.Sealed(log, name, tally.Records, finalHash);
    }
}
