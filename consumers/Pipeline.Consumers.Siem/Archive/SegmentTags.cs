using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Keyed tags (AES-GMAC, under a key made when the writer starts and held only in its memory) of every byte
/// committed to the open segment, in runs of at most <see cref="RunBytes"/>. Before the segment is sealed it is
/// read back and every run's tag made again: a byte changed, added or taken away since it was committed shows, and
/// without the key nobody can alter the file and make the tags agree. It proves what re-hashing the whole chain
/// proved (the bytes on disk are the ones this writer chained and committed), at about a fifth of the cost. Not
/// thread-safe: the writer calls it between batches.
/// </summary>
internal sealed class SegmentTags : IDisposable
{
    public const int RunBytes = 1 << 20;
    private const int TagBytes = 16;
    private readonly AesGcm _gmac = new(RandomNumberGenerator.GetBytes(32), TagBytes);
    private readonly List<Run> _runs = [];
    // A nonce is never used twice under the key: runs count up for the writer's whole life.
    private long _nonce;

    /// <summary>Bytes covered, from the segment's start.</summary>
    public long Length { get; private set; }

    /// <summary>Tags <paramref name="bytes"/>, committed at <see cref="Length"/>.</summary>
    public void Add(ReadOnlySpan<byte> bytes) => Append(Make(bytes));

    /// <summary>The tags of <paramref name="bytes"/>, to follow what is tagged now; nothing changes until <see cref="Append"/>.</summary>
    public List<Run> Make(ReadOnlySpan<byte> bytes)
    {
        var runs = new List<Run>(bytes.Length / RunBytes + 1);
        var offset = Length;
        for (var at = 0; at < bytes.Length; at += RunBytes)
        {
            var run = bytes.Slice(at, Math.Min(RunBytes, bytes.Length - at));
            var nonce = ++_nonce;
            runs.Add(new Run(offset, run.Length, nonce, Tag(run, nonce)));
            offset += run.Length;
        }
        return runs;
    }

    /// <summary>Adds tags made by <see cref="Make"/> (once what they cover is committed); does not throw.</summary>
    public void Append(List<Run> runs)
    {
        foreach (var run in runs)
        {
            _runs.Add(run);
            Length = run.Offset + run.Length;
        }
    }

    /// <summary>Tags the first <paramref name="length"/> bytes of the file as they are now (a segment opened after a restart, checked already).</summary>
    public void AddFrom(SafeFileHandle file, long length)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(RunBytes);
        try
        {
            while (Length < length)
            {
                var run = (int)Math.Min(RunBytes, length - Length);
                if (RandomAccess.Read(file, buffer.AsSpan(0, run), Length) != run) throw new IOException("the segment is shorter than its committed length");
                Add(buffer.AsSpan(0, run));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether the file holds exactly the bytes tagged: <paramref name="length"/> of them, every run's tag made again the same.</summary>
    public bool Match(SafeFileHandle file, long length)
    {
        if (length != Length) return false;
        var buffer = ArrayPool<byte>.Shared.Rent(RunBytes);
        Span<byte> tag = stackalloc byte[TagBytes];
        try
        {
            foreach (var run in _runs)
            {
                var bytes = buffer.AsSpan(0, run.Length);
                if (RandomAccess.Read(file, bytes, run.Offset) != run.Length) return false;
                Tag(bytes, run.Nonce, tag);
                if (!CryptographicOperations.FixedTimeEquals(tag, run.Tag)) return false;
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Starts over for a new segment.</summary>
    public void Clear()
    {
        _runs.Clear();
        Length = 0;
    }

    private byte[] Tag(ReadOnlySpan<byte> bytes, long nonce)
    {
        var tag = new byte[TagBytes];
        Tag(bytes, nonce, tag);
        return tag;
    }

    /// <summary>GMAC: GCM with nothing to encrypt and the bytes as associated data.</summary>
    private void Tag(ReadOnlySpan<byte> bytes, long nonce, Span<byte> tag)
    {
        Span<byte> iv = stackalloc byte[12];
        iv.Clear();
        BitConverter.TryWriteBytes(iv, nonce);
        _gmac.Encrypt(iv, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, tag, bytes);
    }

    public void Dispose() => _gmac.Dispose();

    internal sealed record Run(long Offset, int Length, long Nonce, byte[] Tag);
}
