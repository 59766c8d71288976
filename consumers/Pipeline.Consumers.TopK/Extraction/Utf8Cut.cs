using System.Text;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// UTF-8 text written up to a limit counted in UTF-16 chars, the unit key lengths are limited in (and were, when
/// keys were strings): the text kept is what the chars' text cut at the limit encodes to, byte for byte. A cut
/// between the two halves of a surrogate pair keeps the first half, which UTF-8 writes as the replacement char
/// (<c>EF BF BD</c>) — what encoding the string cut there gave, and so what checkpoints have always stored.
/// </summary>
internal ref struct Utf8Cut
{
    /// <summary>The UTF-8 of a lone surrogate (the replacement char).</summary>
    private static ReadOnlySpan<byte> LoneHalf => [0xEF, 0xBF, 0xBD];

    private readonly Span<byte> _destination;
    private readonly int _limit;

    /// <param name="destination">Where the text goes: at least 3 bytes per char of <paramref name="limit"/>.</param>
    /// <param name="limit">Most UTF-16 chars written.</param>
    public Utf8Cut(Span<byte> destination, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, 3 * limit);
        _destination = destination;
        _limit = limit;
    }

    /// <summary>Bytes written.</summary>
    public int Written { get; private set; }

    /// <summary>
    /// Appends <paramref name="text"/> when it fits the limit; otherwise keeps as much of it as leaves room for one
    /// more char and returns false, and the caller ends with <see cref="Cut"/>.
    /// </summary>
    public bool Append(ReadOnlySpan<byte> text)
    {
        // A char is at least one byte: text that fits in bytes fits in chars, and nothing needs counting (most text).
        if (Written + text.Length > _limit)
        {
            var chars = Encoding.UTF8.GetCharCount(_destination[..Written]);
            if (chars + Encoding.UTF8.GetCharCount(text) > _limit)
            {
                Truncate(chars, text);
                return false;
            }
        }
        ShortBytes.Copy(text, _destination[Written..]);
        Written += text.Length;
        return true;
    }

    /// <summary>Ends text cut by a failed <see cref="Append"/> with <c>…</c>; returns the bytes written.</summary>
    public int Cut()
    {
        if (_limit == 0) return 0;
        "…"u8.CopyTo(_destination[Written..]);
        return Written += 3;
    }

    /// <summary>
    /// The bytes of the first <paramref name="maxChars"/> chars of <paramref name="text"/> (valid UTF-8), and whether
    /// the cut falls inside a surrogate pair (then the first half, written as the replacement char, follows them).
    /// </summary>
    public static int Prefix(ReadOnlySpan<byte> text, int maxChars, out bool loneHalf)
    {
        loneHalf = false;
        var at = 0;
        var chars = 0;
        while (at < text.Length && chars < maxChars)
        {
            if (text[at] < 0x80)
            {
                at++;
                chars++;
                continue;
            }
            Rune.DecodeFromUtf8(text[at..], out var rune, out var used);
            if (chars + rune.Utf16SequenceLength > maxChars)
            {
                loneHalf = true;
                break;
            }
            at += used;
            chars += rune.Utf16SequenceLength;
        }
        return at;
    }

    /// <summary>Keeps the text written and the start of <paramref name="text"/> to the limit less one char (the ellipsis's).</summary>
    private void Truncate(int chars, ReadOnlySpan<byte> text)
    {
        var room = _limit - 1 - chars;
        if (room >= 0)
        {
            var kept = Prefix(text, room, out var loneHalf);
            text[..kept].CopyTo(_destination[Written..]);
            Written += kept;
            if (loneHalf) WriteLoneHalf();
            return;
        }
        // The text written already fills the limit: its last char gives way to the ellipsis.
        if (_limit == 0) return;
        Rune.DecodeLastFromUtf8(_destination[..Written], out var last, out var used);
        Written -= used;
        if (last.Utf16SequenceLength == 2) WriteLoneHalf();
    }

    private void WriteLoneHalf()
    {
        LoneHalf.CopyTo(_destination[Written..]);
        Written += LoneHalf.Length;
    }
}
