using Pipeline.Consumers.TopK.Extraction;

namespace Pipeline.UnitTests.TopK;

/// <summary>
/// <see cref="MessageTemplate"/> as it was before it copied kept text in pieces (char by char, every token
/// classified), kept verbatim as the reference the current one must match on any message and length.
/// </summary>
internal static class ReferenceMessageTemplate
{
    /// <summary>
    /// Writes the template of <paramref name="message"/> into <paramref name="destination"/>, cut at
    /// <paramref name="maxLength"/> chars (ending in <c>…</c> when cut); returns the length written.
    /// </summary>
    public static int Mask(ReadOnlySpan<char> message, Span<char> destination, int maxLength)
    {
        var limit = Math.Min(maxLength, destination.Length);
        var written = 0;
        var i = 0;
        while (i < message.Length)
        {
            var c = message[i];
            if (IsSeparator(c))
            {
                if (!Append(destination, ref written, limit, c)) return Cut(destination, limit);
                i++;
                continue;
            }
            var start = i;
            var hasDigit = false;
            while (i < message.Length && !IsSeparator(message[i]))
            {
                hasDigit |= char.IsAsciiDigit(message[i]);
                i++;
            }
            var token = message[start..i];
            // Sentence punctuation after a token is not part of it ("port 22." / "from 1.2.3.4:").
            var trailer = 0;
            while (trailer < token.Length - 1 && token[^(trailer + 1)] is '.' or ':') trailer++;
            var core = token[..^trailer];
            ReadOnlySpan<char> output = !hasDigit ? core
                : ReferenceSourceIp.IsAddress(core) ? "<ip>"
                : IsNumber(core) ? "<num>"
                : "<*>";
            if (!Append(destination, ref written, limit, output)) return Cut(destination, limit);
            if (!Append(destination, ref written, limit, token[^trailer..])) return Cut(destination, limit);
        }
        return written;
    }

    /// <summary>The template as a new string (for tests and tools; the hot path uses the span form).</summary>
    public static string Mask(string message, int maxLength = 256)
    {
        var buffer = new char[Math.Max(maxLength, 1)];
        return new string(buffer, 0, Mask(message, buffer, maxLength));
    }

    // White space and the punctuation that separates fields in log lines; ':' '.' '/' '-' '_' '@' stay inside
    // tokens so that addresses, times, paths and names are classified whole.
    private static bool IsSeparator(char c) => c switch
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

    private static bool Append(Span<char> destination, ref int written, int limit, char c)
    {
        if (written >= limit) return false;
        destination[written++] = c;
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
