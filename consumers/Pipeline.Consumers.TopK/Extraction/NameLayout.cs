using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// The property names of one kind of object (the envelope, its <c>source</c>, its <c>syslog</c>) as the previous
/// envelope wrote them, position by position, each with its opening quote, closing quote and colon
/// (<c>"received_at":</c>) and the field it is. One writer's envelopes put the same names in the same order, so
/// <see cref="EnvelopeFastScan"/> first compares the bytes at the cursor with the name expected there — one or two
/// word compares — and only on a difference finds the name's end and looks it up (some twenty names an event).
/// A match is exact: the expected token holds no quote or backslash inside the name, so its closing quote is the
/// string's end. One per scanner (per thread); nothing is allocated once it has seen an envelope.
/// </summary>
internal sealed class NameLayout
{
    /// <summary>Tokens (name, quotes and colon) of at most this many bytes are remembered; longer names are looked up.</summary>
    private const int MaxToken = 32;
    private const int MaxPositions = 32;

    private readonly byte[] _tokens = new byte[MaxPositions * MaxToken];
    private readonly int[] _lengths = new int[MaxPositions];
    private readonly EnvelopeField[] _fields = new EnvelopeField[MaxPositions];

    /// <summary>
    /// When the token expected at <paramref name="position"/> is what <paramref name="json"/> holds at
    /// <paramref name="at"/>: its length and field; else 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Match(ReadOnlySpan<byte> json, int at, int position, out EnvelopeField field)
    {
        field = EnvelopeField.Other;
        if ((uint)position >= MaxPositions) return 0;
        var length = _lengths[position];
        // Every remembered token is 4 to 32 bytes: compared in two overlapping reads of each side.
        if (length == 0 || at + length > json.Length
            || !ShortBytes.Equal(ref Unsafe.Add(ref MemoryMarshal.GetReference(json), at), ref _tokens[position * MaxToken], length)) return 0;
        field = _fields[position];
        return length;
    }

    /// <summary>
    /// Remembers the token <paramref name="token"/> (<c>"name":</c>, the name without escapes) at
    /// <paramref name="position"/> as <paramref name="field"/>; a token that cannot be remembered forgets the position.
    /// </summary>
    public void Remember(int position, ReadOnlySpan<byte> token, EnvelopeField field)
    {
        if ((uint)position >= MaxPositions) return;
        if (token.Length is < 4 or > MaxToken)
        {
            _lengths[position] = 0;
            return;
        }
        token.CopyTo(_tokens.AsSpan(position * MaxToken, MaxToken));
        _lengths[position] = token.Length;
        _fields[position] = field;
    }
}

/// <summary>The <see cref="NameLayout"/>s of one scanner: the envelope's, its <c>source</c>'s and its <c>syslog</c>'s.</summary>
internal sealed class EnvelopeLayout
{
    public NameLayout TopLevel { get; } = new();
    public NameLayout Source { get; } = new();
    public NameLayout Syslog { get; } = new();
}
