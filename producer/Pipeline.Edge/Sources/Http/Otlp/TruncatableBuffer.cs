using System.Buffers;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// A growable byte buffer for <see cref="System.Text.Json.Utf8JsonWriter"/> that can be cut back to an earlier
/// length (<see cref="ArrayBufferWriter{T}"/> can only be cleared): a record found bad half-way through its
/// rendering is removed without copying every good record elsewhere first.
/// </summary>
internal sealed class TruncatableBuffer(int initialCapacity) : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[initialCapacity];

    public int Length { get; private set; }

    public int Capacity => _buffer.Length;

    public ReadOnlySpan<byte> Span(int start, int length) => _buffer.AsSpan(start, length);

    public ReadOnlyMemory<byte> Memory(int start, int length) => _buffer.AsMemory(start, length);

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Truncate(int length) => Length = length;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Advance(bytes.Length);
    }

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(Length);
    }

    private void Reserve(int sizeHint)
    {
        var needed = Length + Math.Max(sizeHint, 256);
        if (needed <= _buffer.Length) return;
        Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, Math.Max(needed, (long)_buffer.Length * 2)));
    }
}
