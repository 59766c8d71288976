using System.Text.Json;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Files;

/// <summary>
/// Writes each record as one line of JSON (jsonl) to stdout or to size-rotated files, flushed (and for
/// files fsynced) before the runtime commits: at least once. A record that is not JSON would break the
/// file's framing, so it goes to the dead-letter topic instead.
/// </summary>
internal sealed class FilesSink : IBatchSink, IDisposable
{
    private readonly FilesOptions _options;
    private readonly string _group;
    private readonly TimeProvider _time;
    private Stream? _output;
    private long _written;
    private long _repairTo = -1;
    private bool _tailChecked;

    public FilesSink(FilesOptions options, string group, TimeProvider time)
    {
        _options = options;
        _group = group;
        _time = time;
        if (!options.ToStdout) Directory.CreateDirectory(options.Output);
    }

    public OffsetStorage OffsetStorage => OffsetStorage.Kafka;

    /// <summary>The file being written now (null for stdout).</summary>
    public string? CurrentPath => _options.ToStdout ? null : Path.Combine(_options.Output, _group + ".jsonl");

    public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<PartitionKey, long>>(new Dictionary<PartitionKey, long>());

    public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        foreach (var record in batch.Records)
            if (!IsJson(record.Value)) throw new PoisonRecordException(record, "value is not a JSON document");

        var output = Output();
        var start = _written;
        try
        {
            foreach (var record in batch.Records)
            {
                await output.WriteAsync(record.Value, cancellationToken);
                output.WriteByte((byte)'\n');
                _written += record.Value.Length + 1;
            }
            await output.FlushAsync(cancellationToken);
            if (output is FileStream file) file.Flush(flushToDisk: true);
        }
        catch (Exception) when (output is FileStream)
        {
            // A batch cut short (cancelled, disk full) would leave half a line that the retry appends after:
            // the file is cut back to where the batch began before anything else is written to it.
            Abandon(start);
            throw;
        }
        if (!_options.ToStdout && _written >= _options.MaxFileBytes) Rotate();
    }

    public void Dispose() => _output?.Dispose();

    private Stream Output()
    {
        if (_output is not null) return _output;
        if (_options.ToStdout) return _output = Console.OpenStandardOutput();
        if (_repairTo >= 0)
        {
            using (var repair = new FileStream(CurrentPath!, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read))
                if (repair.Length > _repairTo) repair.SetLength(_repairTo);
            _repairTo = -1;
        }
        if (!_tailChecked)
        {
            // A process killed mid-batch leaves half a line at the end of the file (its batch was never committed, so
            // it is read again): cut it off, or the first record appended here would be glued to it.
            CutAfterLastLine(CurrentPath!);
            _tailChecked = true;
        }
        var file = new FileStream(CurrentPath!, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
        _written = file.Length;
        return _output = file;
    }

    /// <summary>Cuts the file back to just after its last newline (to nothing if it has none); a missing file is left missing.</summary>
    private static void CutAfterLastLine(string path)
    {
        if (!File.Exists(path)) return;
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var end = file.Length;
        if (end == 0) return;
        var chunk = new byte[64 * 1024];
        while (end > 0)
        {
            var start = Math.Max(0, end - chunk.Length);
            file.Position = start;
            var read = chunk.AsSpan(0, (int)(end - start));
            file.ReadExactly(read);
            var newline = read.LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                var keep = start + newline + 1;
                if (keep < file.Length) file.SetLength(keep);
                return;
            }
            end = start;
        }
        file.SetLength(0);
    }

    private void Abandon(long length)
    {
        try
        {
            _output?.Dispose();
        }
        catch (IOException)
        {
            // Its buffer could not be written out; the cut below removes whatever part of it landed.
        }
        _output = null;
        _repairTo = length;
    }

    private void Rotate()
    {
        _output!.Dispose();
        _output = null;
        File.Move(CurrentPath!, RotatedFiles.NewName(_options.Output, _group, _time.GetUtcNow()));
        if (_options.KeepFiles > 0)
        {
            foreach (var old in RotatedFiles.OldestFirst(_options.Output, _group).SkipLast(_options.KeepFiles))
                File.Delete(old);
        }
    }

    private static bool IsJson(byte[] value)
    {
        try
        {
            var reader = new Utf8JsonReader(value);
            if (!reader.Read()) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
