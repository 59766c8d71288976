using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Core.Storage;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Bench;

/// <summary>
/// The archived ECS documents of a stream, by the Kafka record they came from, with those of the alerts archived
/// right after each (the alerts it fired). The bytes live in a few large arrays and the index holds no references,
/// so holding hundreds of megabytes of them costs the garbage collector next to nothing while the contenders run.
/// </summary>
internal sealed class PreparedRecords
{
    private const int ChunkBytes = 64 << 20;
    private readonly List<byte[]> _chunks = [];
    private readonly Dictionary<(int Partition, long Offset), (int Chunk, int At, int Length)> _docs = [];
    private readonly Dictionary<(int Partition, long Offset), byte[][]> _alerts = [];
    private int _used = ChunkBytes;

    public int Count => _docs.Count;

    public void Add(int partition, long offset, ReadOnlySpan<byte> doc)
    {
        if (_used + doc.Length > ChunkBytes)
        {
            _chunks.Add(new byte[Math.Max(ChunkBytes, doc.Length)]);
            _used = 0;
        }
        doc.CopyTo(_chunks[^1].AsSpan(_used));
        _docs[(partition, offset)] = (_chunks.Count - 1, _used, doc.Length);
        _used += doc.Length;
    }

    public void AddAlerts(int partition, long offset, byte[][] alerts) => _alerts[(partition, offset)] = alerts;

    public ReadOnlySpan<byte> Doc(int partition, long offset)
    {
        var (chunk, at, length) = _docs[(partition, offset)];
        return _chunks[chunk].AsSpan(at, length);
    }

    public byte[][] Alerts(int partition, long offset) => _alerts.GetValueOrDefault((partition, offset)) ?? [];
}

/// <summary>
/// The physical limit of the SIEM sink's work: for each record read, the archive record the sink would append —
/// the very same ECS document bytes, taken from an archive the real sink wrote beforehand — framed with
/// <c>seq</c>, <c>prev</c>, type and offsets, chained with SHA-256 and appended; per batch one write, one data
/// fsync and one checkpoint replaced atomically (fsync, rename, folder fsync), as the sink commits. No decoding,
/// normalising, classification or detection: only the bytes, the hash chain and the durability.
/// </summary>
internal sealed class ArchiveLimitSink : IBatchSink, IDisposable
{
    private readonly PreparedRecords _prepared;
    private readonly string _checkpoint;
    private readonly SafeFileHandle _segment;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly ArrayBufferWriter<byte> _pending = new(8 << 20);
    private readonly byte[] _head = new byte[ArchiveFormat.HashSize];
    private readonly Dictionary<PartitionKey, long> _offsets = [];
    private long _seq;
    private long _length;

    public ArchiveLimitSink(string directory, PreparedRecords prepared)
    {
        Directory.CreateDirectory(directory);
        _prepared = prepared;
        _checkpoint = Path.Combine(directory, ArchiveFormat.CheckpointFile);
        _segment = File.OpenHandle(Path.Combine(directory, ArchiveFormat.SegmentName(1)), FileMode.CreateNew, FileAccess.ReadWrite);
    }

    public OffsetStorage OffsetStorage => OffsetStorage.Sink;

    public long Bytes => _length;

    public string SegmentPath => Path.Combine(Path.GetDirectoryName(_checkpoint)!, ArchiveFormat.SegmentName(1));

    public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<PartitionKey, long>>(new Dictionary<PartitionKey, long>());

    public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        _pending.ResetWrittenCount();
        foreach (var record in batch.Records)
        {
            Append(record, _prepared.Doc(record.Partition, record.Offset));
            foreach (var alert in _prepared.Alerts(record.Partition, record.Offset)) Append(null, alert);
        }
        RandomAccess.Write(_segment, _pending.WrittenSpan, _length);
        RandomAccess.FlushToDisk(_segment);
        _length += _pending.WrittenCount;
        foreach (var (key, next) in batch.NextOffsets) _offsets[key] = next;
        DurableFile.Replace(_checkpoint, Checkpoint());
        return Task.CompletedTask;
    }

    /// <summary>One line: <c>{"seq":N,"prev":"…","type":…,["topic":…,"partition":…,"offset":…,]"doc":{…},"hash":"…"}</c>.</summary>
    private void Append(ConsumedRecord? source, ReadOnlySpan<byte> doc)
    {
        var topic = source?.Topic ?? "";
        var line = _pending.GetSpan(doc.Length + topic.Length * 3 + 400);
        var at = Put(line, 0, "{\"seq\":"u8);
        Utf8Formatter.TryFormat(++_seq, line[at..], out var written);
        at += written;
        at = Put(line, at, ",\"prev\":\""u8);
        ArchiveFormat.ToHex(_head, line.Slice(at, 64));
        at += 64;
        if (source is null) at = Put(line, at, "\",\"type\":\"alert\""u8);
        else
        {
            at = Put(line, at, "\",\"type\":\"event\",\"topic\":\""u8);
            at += Encoding.UTF8.GetBytes(topic, line[at..]);
            at = Put(line, at, "\",\"partition\":"u8);
            Utf8Formatter.TryFormat(source.Partition, line[at..], out written);
            at += written;
            at = Put(line, at, ",\"offset\":"u8);
            Utf8Formatter.TryFormat(source.Offset, line[at..], out written);
            at += written;
        }
        at = Put(line, at, ",\"doc\":"u8);
        at = Put(line, at, doc);
        ArchiveFormat.Chain(_sha, _head, line[..at], _head);
        at = Put(line, at, ArchiveFormat.HashMemberStart);
        ArchiveFormat.ToHex(_head, line.Slice(at, 64));
        at += 64;
        at = Put(line, at, "\"}\n"u8);
        _pending.Advance(at);
    }

    private static int Put(Span<byte> line, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(line[at..]);
        return at + bytes.Length;
    }

    private byte[] Checkpoint()
    {
        var text = new StringBuilder(256).Append("{\"segment\":1,\"length\":").Append(_length).Append(",\"seq\":").Append(_seq)
            .Append(",\"hash\":\"").Append(ArchiveFormat.ToHex(_head)).Append("\",\"offsets\":[");
        var first = true;
        foreach (var (key, next) in _offsets)
        {
            text.Append(first ? "" : ",").Append("{\"topic\":\"").Append(key.Topic).Append("\",\"partition\":").Append(key.Partition).Append(",\"next\":").Append(next).Append('}');
            first = false;
        }
        return Encoding.UTF8.GetBytes(text.Append("]}").ToString());
    }

    public void Dispose()
    {
        _segment.Dispose();
        _sha.Dispose();
    }

    /// <summary>
    /// The ECS documents of an archive the real sink wrote, by the Kafka record they came from; alerts go with the
    /// event archived just before them (the one that fired them).
    /// </summary>
    public static PreparedRecords ReadArchive(string directory)
    {
        var result = new PreparedRecords();
        (int Partition, long Offset)? last = null;
        var alerts = new List<byte[]>();
        void Flush()
        {
            if (last is { } key && alerts.Count > 0) result.AddAlerts(key.Partition, key.Offset, [.. alerts]);
            alerts.Clear();
        }
        foreach (var index in ArchiveFormat.ListSegments(directory))
        {
            using var reader = new LineReader(Path.Combine(directory, ArchiveFormat.SegmentName(index)), 0, long.MaxValue);
            while (reader.ReadLine())
            {
                if (reader.Torn) throw new InvalidDataException("the prepared archive ends with a torn line");
                if (!ParsedLine.TryParse(reader.Line, out var line, out var error)) throw new InvalidDataException("the prepared archive has a bad line: " + error);
                if (line.Type == ArchiveFormat.AlertType)
                {
                    alerts.Add(line.Doc.ToArray());
                    continue;
                }
                Flush();
                last = (line.Partition, line.Offset);
                result.Add(line.Partition, line.Offset, line.Doc);
            }
        }
        Flush();
        return result;
    }
}
