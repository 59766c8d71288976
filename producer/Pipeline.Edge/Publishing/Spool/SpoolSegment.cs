using System.Collections;
using System.Globalization;

namespace Pipeline.Edge.Publishing.Spool;

/// <summary>One segment file's bookkeeping. Guarded by <see cref="SpoolSegments.Gate"/>.</summary>
internal sealed class SpoolSegment(long sequence)
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

/// <summary>
/// The spool's segments by sequence, the bytes they hold, and which one the reader is in: a segment goes once it
/// is sealed, wholly acknowledged and (if it is the reader's) wholly read.
/// </summary>
internal sealed class SpoolSegments(SpoolFiles files)
{
    private long _bytes;

    /// <summary>Guards the map, every segment's bookkeeping and <see cref="ReadSegment"/>.</summary>
    public object Gate { get; } = new();

    public SortedDictionary<long, SpoolSegment> Map { get; } = [];

    /// <summary>Bytes on disk (and in the write buffer).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The segment the reader is in. Under <see cref="Gate"/>.</summary>
    public long ReadSegment { get; set; }

    public void AddBytes(long bytes) => Interlocked.Add(ref _bytes, bytes);

    /// <summary>Deletes the segment if nothing in it is needed any more. Under <see cref="Gate"/>.</summary>
    public void TryDelete(SpoolSegment segment)
    {
        if (!segment.Sealed || segment.AckedCount < segment.Count) return;
        if (segment.Sequence == ReadSegment && !segment.FullyRead) return;
        Map.Remove(segment.Sequence);
        AddBytes(-segment.Length);
        files.Delete(segment.Sequence);
    }
}

/// <summary>The spool folder's file names: segments <c>NNNNNNNNNNNNNNNN.spool</c> and their checkpoints <c>.acked</c>.</summary>
internal sealed class SpoolFiles(string directory)
{
    public const string Extension = ".spool";
    private const string AckedExtension = ".acked";

    public string Directory { get; } = directory;

    public string SegmentPath(long sequence) => Path.Combine(Directory, sequence.ToString("D16", CultureInfo.InvariantCulture) + Extension);

    public string AckedPath(long sequence) => Path.Combine(Directory, sequence.ToString("D16", CultureInfo.InvariantCulture) + AckedExtension);

    public void Delete(long sequence)
    {
        File.Delete(SegmentPath(sequence));
        File.Delete(AckedPath(sequence));
    }

    /// <summary>The acknowledged prefix an earlier run checkpointed for the segment (0 if none).</summary>
    public int ReadAckedPrefix(long sequence)
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

    /// <summary>Where the next record may start after damaged bytes: the next record magic.</summary>
    public static int NextMagic(ReadOnlySpan<byte> data) => data.IndexOf("SPL1"u8);
}
