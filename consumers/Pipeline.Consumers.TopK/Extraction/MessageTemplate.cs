namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// Turns a message into its template by masking what varies between occurrences of the same event, so
/// <c>Failed password for root from 1.2.3.4 port 22 ssh2</c> and <c>... from 5.6.7.8 port 4711 ssh2</c>
/// count as one key. The message is cut into tokens at white space and <c>, ; ( ) [ ] { } " ' &lt; &gt; = |</c>
/// (so <c>pid=42</c> keeps its name); a token that holds a digit is masked: an IPv4 or IPv6 address
/// (with or without a port) becomes <c>&lt;ip&gt;</c>, a plain number <c>&lt;num&gt;</c>, anything else
/// with a digit in it (ids, hashes, UUIDs, timestamps, <c>0x7f3a</c>) <c>&lt;*&gt;</c>. Words without digits are
/// kept as they are: they are what tells one event from another. A trailing <c>.</c> or <c>:</c> is kept
/// outside the token. One pass, no regular expression, no allocation: the caller supplies the buffer.
/// </summary>
internal static class MessageTemplate
{
    /// <summary>
    /// Writes the template of <paramref name="message"/> into <paramref name="destination"/>, cut at
    /// <paramref name="maxLength"/> chars (ending in <c>…</c> when cut); returns the length written.
    /// </summary>
    public static int Mask(ReadOnlySpan<char> message, Span<char> destination, int maxLength)
    {
        var limit = Math.Min(maxLength, destination.Length);
        var written = 0;
        // Text from here to the next token with a digit is kept as it is, so it is copied in one piece; the
        // tokens to mask are found from their digits (a vectorised search), then widened to their separators.
        var kept = 0;
        var at = 0;
        while (at < message.Length)
        {
            var digit = message[at..].IndexOfAnyInRange('0', '9');
            if (digit < 0) break;
            digit += at;
            var start = digit;
            while (start > at && !IsSeparator(message[start - 1])) start--;
            var end = digit + 1;
            while (end < message.Length && !IsSeparator(message[end])) end++;
            var token = message[start..end];
            // Sentence punctuation after a token is not part of it ("port 22." / "from 1.2.3.4:").
            var trailer = 0;
            while (trailer < token.Length - 1 && token[^(trailer + 1)] is '.' or ':') trailer++;
            var core = token[..^trailer];
            ReadOnlySpan<char> mask = SourceIp.IsAddress(core) ? "<ip>" : IsNumber(core) ? "<num>" : "<*>";
            if (!Append(destination, ref written, limit, message[kept..start]) || !Append(destination, ref written, limit, mask))
                return Cut(destination, limit);
            kept = end - trailer;
            at = end;
        }
        return Append(destination, ref written, limit, message[kept..]) ? written : Cut(destination, limit);
    }

    /// <summary>The template as a new string (for tests and tools; the hot path uses the span form).</summary>
    public static string Mask(string message, int maxLength = 256)
    {
        var buffer = new char[Math.Max(maxLength, 1)];
        return new string(buffer, 0, Mask(message, buffer, maxLength));
    }

    // White space and the punctuation that separates fields in log lines; ':' '.' '/' '-' '_' '@' stay inside
    // tokens so that addresses, times, paths and names are classified whole.
    private static readonly bool[] AsciiSeparators = [.. Enumerable.Range(0, 128).Select(c => IsAnySeparator((char)c))];

    private static bool IsSeparator(char c) => c < 128 ? AsciiSeparators[c] : char.IsWhiteSpace(c);

    private static bool IsAnySeparator(char c) => c switch
    {
        ' ' or '\t' or '\r' or '\n' or ',' or ';' or '(' or ')' or '[' or ']' or '{' or '}' or '"' or '\'' or '<' or '>' or '=' or '|' => true,
        _ => char.IsWhiteSpace(c),
    };

    /// <summary>Digits with optional sign, decimal point, thousands separators or a percent sign: 42, -3.5, 1.000.000, 99%.</summary>
    private static bool IsNumber(ReadOnlySpan<char> token)
    {
        var start = token.Length > 1 && token[0] is '-' or '+' ? 1 : 0;
        var end = token.Length > 1 && token[^1] == '%' ? token.Length - 1 : token.Length;
        if (start >= end || !char.IsAsciiDigit(token[start])) return false;
        for (var i = start; i < end; i++)
            if (!char.IsAsciiDigit(token[i]) && token[i] != '.') return false;
        return true;
    }

    private static bool Append(Span<char> destination, ref int written, int limit, ReadOnlySpan<char> text)
    {
        var fits = Math.Min(text.Length, limit - written);
        text[..fits].CopyTo(destination[written..]);
        written += fits;
        return fits == text.Length;
    }

    private static int Cut(Span<char> destination, int limit)
    {
        if (limit == 0) return 0;
        destination[limit - 1] = '…';
        return limit;
    }
}
