using System.Buffers;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Reads newline-terminated lines of a segment from a byte position up to a limit, with one pooled
/// buffer (grown only for a longer line). The file may be appended to meanwhile: it is opened shared and
/// never read past the limit, so a reader sees only what the writer has committed.
/// </summary>
internal sealed class LineReader : IDisposable
{
    private readonly FileStream _file;
    private readonly long _limit;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private long _bufferPosition;
    private bool _eof;

    public LineReader(string path, long position, long limit)
    {
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        _limit = Math.Min(limit, _file.Length);
        _file.Position = Math.Min(position, _limit);
        _bufferPosition = _file.Position;
        _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    }

    /// <summary>Bytes the reader may read up to (the limit, or the file's length when shorter).</summary>
    public long Limit => _limit;

    /// <summary>File position of the first byte of the last line read.</summary>
    public long LineStart { get; private set; }

    /// <summary>File position just after the last line read (after its newline).</summary>
    public long LineEnd { get; private set; }

    /// <summary>The last line read, without its newline; valid until the next call.</summary>
    public ReadOnlySpan<byte> Line => _buffer.AsSpan(_lineStart, _lineLength);

    /// <summary>True when the last line read had no newline: a torn write at the limit.</summary>
    public bool Torn { get; private set; }

    private int _lineStart;
    private int _lineLength;

    public bool ReadLine()
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                Take(newline, newline + 1, torn: false);
                return true;
            }
            if (_eof)
            {
                if (_end == _start) return false;
                Take(_end - _start, _end - _start, torn: true);
                return true;
            }
            Fill();
        }
    }

    private void Take(int length, int consumed, bool torn)
    {
        _lineStart = _start;
        _lineLength = length;
        LineStart = _bufferPosition + _start;
        LineEnd = LineStart + consumed;
        Torn = torn;
        _start += consumed;
    }

    private void Fill()
    {
        if (_start > 0)
        {
            // Keep the partial line at the front.
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _bufferPosition += _start;
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var remaining = _limit - (_bufferPosition + _end);
        var want = (int)Math.Min(_buffer.Length - _end, remaining);
        var read = want <= 0 ? 0 : _file.Read(_buffer, _end, want);
        if (read <= 0) _eof = true;
        _end += read;
    }

    public void Dispose()
    {
        _file.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
