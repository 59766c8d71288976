using System.Text;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// Turns a message into its template by masking what varies between occurrences of the same event, so
/// <c>Failed password for root from 1.2.3.4 port 22 ssh2</c> and <c>... from 5.6.7.8 port 4711 ssh2</c>
/// count as one key. The message is cut into tokens at white space and <c>, ; ( ) [ ] { } " ' &lt; &gt; = |</c>
/// (so <c>pid=42</c> keeps its name); a token that holds a digit is masked: an IPv4 or IPv6 address
/// (with or without a port) becomes <c>&lt;ip&gt;</c>, a plain number <c>&lt;num&gt;</c>, anything else
/// with a digit in it (ids, hashes, UUIDs, timestamps, <c>0x7f3a</c>) <c>&lt;*&gt;</c>. Words without digits are
/// kept as they are: they are what tells one event from another. A trailing <c>.</c> or <c>:</c> is kept
/// outside the token. One pass over the message's UTF-8, no regular expression, no allocation: the caller
/// supplies the buffer.
/// </summary>
internal static class MessageTemplate
{
    /// <summary>Bytes a template of <paramref name="maxChars"/> chars may need: a UTF-16 char is at most 3 UTF-8 bytes.</summary>
    public static int MaxBytes(int maxChars) => 3 * maxChars;

    /// <summary>
    /// Writes the template of the UTF-8 <paramref name="message"/> into <paramref name="destination"/> (at least
    /// <see cref="MaxBytes"/> of <paramref name="maxChars"/>), cut at <paramref name="maxChars"/> UTF-16 chars — the
    /// length keys are limited to — and ending in <c>…</c> when cut; returns the bytes written. The result is the
    /// UTF-8 of the template the message's chars have, byte for byte (a cut through a pair of surrogates leaves the
    /// replacement char, as encoding the lone half does).
    /// </summary>
    public static int Mask(ReadOnlySpan<byte> message, Span<byte> destination, int maxChars)
    {
        var output = new Utf8Cut(destination, maxChars);
        // Text from here to the next token with a digit is kept as it is, so it is copied in one piece; the
        // tokens to mask are found from their digits (a vectorised search), then widened to their separators.
        var kept = 0;
        var at = 0;
        while (at < message.Length)
        {
            var digit = message[at..].IndexOfAnyInRange((byte)'0', (byte)'9');
            if (digit < 0) break;
            digit += at;
            var start = digit;
            while (start > at && !SeparatorEndsAt(message, start)) start--;
            var end = digit + 1;
            while (end < message.Length && !SeparatorStartsAt(message, end)) end++;
            var token = message[start..end];
            // Sentence punctuation after a token is not part of it ("port 22." / "from 1.2.3.4:").
            var trailer = 0;
            while (trailer < token.Length - 1 && token[^(trailer + 1)] is (byte)'.' or (byte)':') trailer++;
            var core = token[..^trailer];
            var mask = SourceIp.IsAddress(core) ? "<ip>"u8 : IsNumber(core) ? "<num>"u8 : "<*>"u8;
            if (!output.Append(message[kept..start]) || !output.Append(mask)) return output.Cut();
            kept = end - trailer;
            at = end;
        }
        return output.Append(message[kept..]) ? output.Written : output.Cut();
    }

    /// <summary>The template as a new string (for tests and tools; the hot path uses the UTF-8 form).</summary>
    public static string Mask(string message, int maxLength = 256)
    {
        var buffer = new byte[MaxBytes(maxLength)];
        return Encoding.UTF8.GetString(buffer, 0, Mask(Encoding.UTF8.GetBytes(message), buffer, maxLength));
    }

    /// <summary>The template into chars, cut at <paramref name="maxLength"/> and the destination's length (for tests and tools).</summary>
    public static int Mask(ReadOnlySpan<char> message, Span<char> destination, int maxLength)
    {
        var limit = Math.Min(maxLength, destination.Length);
        var buffer = new byte[MaxBytes(limit)];
        var n = Mask(Encoding.UTF8.GetBytes(message.ToArray()), buffer, limit);
        return Encoding.UTF8.GetChars(buffer.AsSpan(0, n), destination);
    }

    // White space and the punctuation that separates fields in log lines; ':' '.' '/' '-' '_' '@' stay inside
    // tokens so that addresses, times, paths and names are classified whole.
    private static readonly bool[] AsciiSeparators = [.. Enumerable.Range(0, 128).Select(c => IsAnySeparator((char)c))];

    private static bool IsAnySeparator(char c) => c switch
    {
        ' ' or '\t' or '\r' or '\n' or ',' or ';' or '(' or ')' or '[' or ']' or '{' or '}' or '"' or '\'' or '<' or '>' or '=' or '|' => true,
        _ => char.IsWhiteSpace(c),
    };

    /// <summary>Whether the char that ends just before <paramref name="at"/> separates tokens (a multi-byte one when it is white space).</summary>
    private static bool SeparatorEndsAt(ReadOnlySpan<byte> message, int at)
    {
        var b = message[at - 1];
        if (b < 0x80) return AsciiSeparators[b];
        // A byte inside a char decodes as no char (invalid), so only the last byte of a white-space char says yes.
        Rune.DecodeLastFromUtf8(message[..at], out var rune, out _);
        return Rune.IsWhiteSpace(rune);
    }

    /// <summary>Whether the char that starts at <paramref name="at"/> separates tokens.</summary>
    private static bool SeparatorStartsAt(ReadOnlySpan<byte> message, int at)
    {
        var b = message[at];
        if (b < 0x80) return AsciiSeparators[b];
        // Only a char's first byte decodes as a char: a byte inside one is no separator.
        Rune.DecodeFromUtf8(message[at..], out var rune, out _);
        return Rune.IsWhiteSpace(rune);
    }

    /// <summary>Digits with optional sign, decimal point, thousands separators or a percent sign: 42, -3.5, 1.000.000, 99%.</summary>
    private static bool IsNumber(ReadOnlySpan<byte> token)
    {
        var start = token.Length > 1 && token[0] is (byte)'-' or (byte)'+' ? 1 : 0;
        var end = token.Length > 1 && token[^1] == '%' ? token.Length - 1 : token.Length;
        if (start >= end || !char.IsAsciiDigit((char)token[start])) return false;
        for (var i = start; i < end; i++)
            if (!char.IsAsciiDigit((char)token[i]) && token[i] != '.') return false;
        return true;
    }
}
