using System.Globalization;

namespace Pipeline.Edge.Publishing.Spool;

/// <summary>What start-up found in the spool.</summary>
internal sealed record SpoolRecovery(long Records, long DamagedBytes, int DamagedRegions, IReadOnlyDictionary<(string Listener, string Route), int> RecordsByCell);

/// <summary>
/// Start-up never trusts the files: scans the segments a previous run left, checks every record's checksum, counts
/// good records per ledger cell and skips damaged bytes (a torn tail after a crash, flipped bits), counting them.
/// Segments with nothing left to send are deleted; the others are registered, sealed.
/// </summary>
internal static class SpoolRecoveryScan
{
    public static SpoolRecovery Run(SpoolFiles files, SpoolSegments segments)
    {
        var byCell = new Dictionary<(string, string), int>();
        long records = 0, damagedBytes = 0;
        var damagedRegions = 0;
        foreach (var path in Directory.GetFiles(files.Directory, "*" + SpoolFiles.Extension).Order(StringComparer.Ordinal))
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
            var segment = new SpoolSegment(sequence) { Sealed = true, Length = data.Length, Written = data.Length };
            var acked = files.ReadAckedPrefix(sequence);
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
                var next = SpoolFiles.NextMagic(data.AsSpan(offset + 1));
                var skipped = next < 0 ? data.Length - offset : next + 1;
                damagedBytes += skipped;
                offset += skipped;
            }
            segment.AckAll(Math.Min(acked, segment.Count));
            segment.CheckpointedPrefix = segment.AckedPrefix;
            if (segment.Count == 0 || segment.AckedCount == segment.Count)
            {
                File.Delete(path);
                File.Delete(files.AckedPath(sequence));
                continue;
            }
            segments.Map[sequence] = segment;
            segments.AddBytes(data.Length);
        }
        return new SpoolRecovery(records, damagedBytes, damagedRegions, byCell);
    }
}
