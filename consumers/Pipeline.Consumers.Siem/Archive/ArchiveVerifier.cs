using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>The first place an archive was found altered: the segment file, the 1-based line, what and why.</summary>
internal sealed record ArchiveProblem(string Segment, long Line, string Kind, string Detail)
{
    public override string ToString() => Line > 0 ? $"{Segment} line {Line}: {Kind}: {Detail}" : $"{Segment}: {Kind}: {Detail}";
}

/// <summary>What one segment holds, as read and checked.</summary>
internal sealed class SegmentStats
{
    public long Records { get; set; }
    public long Events { get; set; }
    public long Alerts { get; set; }
    public long FirstSeq { get; set; }
    public long LastSeq { get; set; }
    public string FirstPrev { get; set; } = "";
    public string FinalHash { get; set; } = "";
    /// <summary>End of the last whole, valid line.</summary>
    public long ValidBytes { get; set; }
    /// <summary>Lines read (whole or torn).</summary>
    public long Lines { get; set; }
    /// <summary>Start of a final line with no newline, or -1.</summary>
    public long TornAt { get; set; } = -1;
    /// <summary>Seq and hash of the record ending exactly at the position asked for, if one does.</summary>
    public (long Seq, string Hash)? AtMark { get; set; }
    public SortedDictionary<(string Topic, int Partition), PartitionRange> Partitions { get; } = new();
}

/// <summary>
/// Checks a whole archive: every record's own hash, the chain from record to record and segment to
/// segment (<c>seq</c> and <c>prev</c>), each sealed segment against its manifest, and the open segment
/// against the checkpoint. Reports the first record edited, deleted, inserted or reordered, by segment and line.
/// </summary>
internal static class ArchiveVerifier
{
    public sealed record Result(ArchiveProblem? Problem, long Segments, long Records, string FinalHash, IReadOnlyList<string> Notes)
    {
        public bool Ok => Problem is null;
    }

    public static Result Verify(string directory)
    {
        var notes = new List<string>();
        var segments = ArchiveFormat.ListSegments(directory);
        if (segments.Count == 0)
            return new Result(new ArchiveProblem(directory, 0, "empty", "no segment-NNNNNN.ndjson files (not an archive, or every segment deleted)"), 0, 0, "", notes);

        Checkpoint? checkpoint;
        try
        {
            checkpoint = ArchiveCheckpoint.Read(directory);
        }
        catch (InvalidDataException ex)
        {
            return new Result(new ArchiveProblem(ArchiveFormat.CheckpointFile, 0, "edited", ex.Message), 0, 0, "", notes);
        }
        if (checkpoint is null) notes.Add("no checkpoint.json: the tail of the last segment cannot be checked against a commit record");

        var prev = ArchiveFormat.GenesisHex;
        var nextSeq = 1L;
        var records = 0L;
        for (var i = 0; i < segments.Count; i++)
        {
            var index = segments[i];
            var expectedIndex = i == 0 ? 1 : segments[i - 1] + 1;
            if (index != expectedIndex)
                return Fail(new ArchiveProblem(ArchiveFormat.SegmentName(expectedIndex), 0, "deleted", "the segment is missing"));
            var name = ArchiveFormat.SegmentName(index);
            var path = Path.Combine(directory, name);
            var last = i == segments.Count - 1;
            SegmentManifest? manifest;
            try
            {
                manifest = ArchiveJson.Read(Path.Combine(directory, ArchiveFormat.ManifestName(index)), ArchiveJson.Default.SegmentManifest);
            }
            catch (InvalidDataException ex)
            {
                return Fail(new ArchiveProblem(ArchiveFormat.ManifestName(index), 0, "edited", ex.Message));
            }
            if (manifest is null && !last)
                return Fail(new ArchiveProblem(ArchiveFormat.ManifestName(index), 0, "deleted", "a sealed segment has no manifest"));

            var mark = last && checkpoint is not null && checkpoint.Segment == index ? checkpoint.Length : -1;
            var (stats, problem) = CheckSegment(path, long.MaxValue, prev, nextSeq, mark);
            if (problem is not null) return Fail(problem);

            if (stats.TornAt >= 0)
            {
                if (last && (checkpoint is null || checkpoint.Segment != index || stats.TornAt >= checkpoint.Length))
                    notes.Add($"{name}: a torn, uncommitted last line at byte {stats.TornAt} (cut at the next start)");
                else
                    return Fail(new ArchiveProblem(name, stats.Lines, "edited", "the line has no newline: the segment was cut or altered"));
            }
            if (manifest is not null && CompareManifest(name, manifest, stats) is { } mismatch) return Fail(mismatch);

            if (last && checkpoint is not null)
            {
                if (checkpoint.Segment != index)
                    return Fail(new ArchiveProblem(name, 0, checkpoint.Segment > index ? "deleted" : "inserted",
                        $"the checkpoint names {ArchiveFormat.SegmentName(checkpoint.Segment)} as the open segment"));
                var length = new FileInfo(path).Length;
                if (length < checkpoint.Length)
                    return Fail(new ArchiveProblem(name, stats.Lines + 1, "deleted",
                        $"the segment ends at byte {length} but {checkpoint.Length} bytes (up to seq {checkpoint.Seq}) were committed: records at its end were removed"));
                var (seqAtMark, hashAtMark) = stats.AtMark ?? (-1, "");
                if (seqAtMark != checkpoint.Seq || !string.Equals(hashAtMark, checkpoint.Hash, StringComparison.Ordinal))
                    return Fail(new ArchiveProblem(name, 0, "edited",
                        $"the checkpoint's head (seq {checkpoint.Seq}, hash {checkpoint.Hash}) is not the record ending at committed byte {checkpoint.Length}"));
                if (stats.ValidBytes > checkpoint.Length)
                    notes.Add($"{name}: {stats.LastSeq - checkpoint.Seq} whole records after the committed length (uncommitted; cut at the next start)");
            }

            records += stats.Records;
            if (stats.Records > 0)
            {
                prev = stats.FinalHash;
                nextSeq = stats.LastSeq + 1;
            }
        }
        return new Result(null, segments.Count, records, prev, notes);

        Result Fail(ArchiveProblem problem) => new(problem, segments.Count, records, prev, notes);
    }

    private static ArchiveProblem? CompareManifest(string name, SegmentManifest manifest, SegmentStats stats)
    {
        var manifestName = Path.GetFileNameWithoutExtension(name) + ArchiveFormat.ManifestSuffix;
        if (stats.Records < manifest.Records)
            return new ArchiveProblem(name, stats.Lines + 1, "deleted",
                $"the manifest counts {manifest.Records} records (last seq {manifest.LastSeq}) but the segment ends after {stats.Records} (seq {stats.LastSeq})");
        if (stats.Records > manifest.Records)
            return new ArchiveProblem(name, manifest.Records + 1, "inserted",
                $"the manifest counts {manifest.Records} records but the segment holds {stats.Records}");
        if (!string.Equals(manifest.FinalHash, stats.FinalHash, StringComparison.Ordinal) || manifest.LastSeq != stats.LastSeq
            || !string.Equals(manifest.FirstPrev, stats.FirstPrev, StringComparison.Ordinal))
            return new ArchiveProblem(manifestName, 0, "edited", $"the manifest's chain (final hash {manifest.FinalHash}) is not the segment's ({stats.FinalHash})");
        var ranges = stats.Partitions.Values.ToList();
        if (ranges.Count != manifest.Partitions.Count || ranges.Zip(manifest.Partitions).Any(p => p.First != p.Second))
            return new ArchiveProblem(manifestName, 0, "edited", "the manifest's offsets per partition are not the segment's");
        return null;
    }

    /// <summary>
    /// Reads one segment up to <paramref name="limit"/>, checking each record against the chain that
    /// precedes it (<paramref name="prevHex"/>, <paramref name="nextSeq"/>). Returns its stats, or the first
    /// problem. <paramref name="markPosition"/>: capture the record that ends exactly there.
    /// </summary>
    public static (SegmentStats Stats, ArchiveProblem? Problem) CheckSegment(string path, long limit, string? prevHex, long nextSeq, long markPosition = -1)
    {
        var name = Path.GetFileName(path);
        var stats = new SegmentStats();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var reader = new LineReader(path, 0, limit);
        Span<byte> previous = stackalloc byte[ArchiveFormat.HashSize];
        Span<byte> computed = stackalloc byte[ArchiveFormat.HashSize];
        Span<byte> computedHex = stackalloc byte[64];
        Span<byte> linePrev = stackalloc byte[ArchiveFormat.HashSize];
        var havePrev = prevHex is not null;
        if (prevHex is not null) Convert.FromHexString(prevHex, previous, out _, out _);
        if (markPosition == 0) stats.AtMark = (nextSeq - 1, prevHex ?? ArchiveFormat.GenesisHex);
        while (reader.ReadLine())
        {
            stats.Lines++;
            var lineNo = stats.Lines;
            if (reader.Torn)
            {
                stats.TornAt = reader.LineStart;
                break;
            }
            var line = reader.Line;
            if (!ParsedLine.TryParse(line, out var parsed, out var error))
                return (stats, new ArchiveProblem(name, lineNo, "edited", "the record is damaged: " + error));
            // A prev that is not hex is hashed as zeros: the record's own hash then fails, which names the edit.
            if (!ArchiveFormat.TryFromHex(parsed.PrevHex, linePrev)) linePrev.Clear();
            ArchiveFormat.Chain(sha, linePrev, parsed.ContentPrefix, computed);
            ArchiveFormat.ToHex(computed, computedHex);
            if (!computedHex.SequenceEqual(parsed.HashHex))
                return (stats, new ArchiveProblem(name, lineNo, "edited", $"the record's hash does not match its content (seq field {parsed.Seq})"));

            var prevOk = !havePrev || linePrev.SequenceEqual(previous);
            if (parsed.Seq != nextSeq || !prevOk)
            {
                var seq = parsed.Seq;
                if (seq > nextSeq)
                {
                    // Looking ahead tells a reorder (the missing record comes later) from a deletion.
                    var foundAfter = 0L;
                    for (var ahead = 1; ahead <= 100_000 && reader.ReadLine() && !reader.Torn; ahead++)
                    {
                        if (ParsedLine.TryParse(reader.Line, out var following, out _) && following.Seq == nextSeq)
                        {
                            foundAfter = ahead;
                            break;
                        }
                    }
                    return foundAfter > 0
                        ? (stats, new ArchiveProblem(name, lineNo, "reordered", $"record seq {seq} stands where seq {nextSeq} belongs (seq {nextSeq} is {foundAfter} line(s) further on)"))
                        : (stats, new ArchiveProblem(name, lineNo, "deleted", seq == nextSeq + 1
                            ? $"record seq {nextSeq} is missing before this line"
                            : $"records seq {nextSeq}..{seq - 1} are missing before this line"));
                }
                if (seq < nextSeq)
                    return (stats, new ArchiveProblem(name, lineNo, "inserted", $"record seq {seq} comes again or out of order after seq {nextSeq - 1}"));
                return (stats, new ArchiveProblem(name, lineNo, lineNo == 1 ? "deleted" : "inserted",
                    lineNo == 1
                        ? "the segment's first record does not chain from the previous segment's last (records or a segment are missing or replaced)"
                        : "the record does not chain from the previous line (a forged record was inserted or the previous one replaced)"));
            }

            if (stats.Records == 0)
            {
                stats.FirstSeq = parsed.Seq;
                stats.FirstPrev = Encoding.ASCII.GetString(parsed.PrevHex);
            }
            stats.Records++;
            stats.LastSeq = parsed.Seq;
            if (parsed.Type == ArchiveFormat.AlertType) stats.Alerts++;
            else stats.Events++;
            if (parsed.Topic is { } topic)
            {
                var key = (topic, parsed.Partition);
                stats.Partitions[key] = stats.Partitions.TryGetValue(key, out var range)
                    ? range with { FirstOffset = Math.Min(range.FirstOffset, parsed.Offset), LastOffset = Math.Max(range.LastOffset, parsed.Offset), Records = range.Records + 1 }
                    : new PartitionRange(topic, parsed.Partition, parsed.Offset, parsed.Offset, 1);
            }
            computed.CopyTo(previous);
            havePrev = true;
            nextSeq = parsed.Seq + 1;
            stats.ValidBytes = reader.LineEnd;
            if (reader.LineEnd == markPosition) stats.AtMark = (parsed.Seq, Encoding.ASCII.GetString(computedHex));
        }
        stats.FinalHash = stats.Records > 0 ? Convert.ToHexStringLower(previous) : prevHex ?? "";
        return (stats, null);
    }

    /// <summary>The <c>verify</c> command: prints the outcome; exit 0 when intact, 1 when altered, 2 when it cannot run.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length != 1 || args[0] is "-h" or "--help")
        {
            error.WriteLine("usage: Pipeline.Consumers.Siem verify <archive-dir>");
            return 2;
        }
        if (!Directory.Exists(args[0]))
        {
            error.WriteLine($"verify: {args[0]} is not a folder");
            return 2;
        }
        Result result;
        try
        {
            result = Verify(args[0]);
        }
        catch (IOException ex)
        {
            error.WriteLine($"verify: cannot read {args[0]}: {ex.Message}");
            return 2;
        }
        foreach (var note in result.Notes) output.WriteLine("note: " + note);
        if (result.Problem is { } problem)
        {
            output.WriteLine($"FAILED {problem}");
            return 1;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"OK {result.Records} records in {result.Segments} segments; chain intact; final hash {result.FinalHash}"));
        return 0;
    }
}
