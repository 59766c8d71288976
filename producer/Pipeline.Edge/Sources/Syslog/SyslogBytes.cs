namespace Pipeline.Edge.Sources.Syslog;

/// <summary>Byte tests and token walking the header readers share; all over spans, allocation-free.</summary>
internal static class SyslogBytes
{
    public static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    public static bool IsAlphanumeric(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    /// <summary>Printable US-ASCII, no space (RFC 5424's PRINTUSASCII).</summary>
    public static bool IsPrintable(byte b) => b is > 32 and < 127;

    public static bool AllPrintable(ReadOnlySpan<byte> s) => s.IndexOfAnyExceptInRange((byte)33, (byte)126) < 0;

    /// <summary>The index of the next space at or after <paramref name="pos"/>, or the line's length.</summary>
    public static int TokenEnd(ReadOnlySpan<byte> line, int pos)
    {
        var space = line[pos..].IndexOf((byte)' ');
        return space < 0 ? line.Length : pos + space;
    }

    /// <summary>The token from <paramref name="pos"/> to the next space; <paramref name="pos"/> moves past that space.</summary>
    public static bool NextToken(ReadOnlySpan<byte> line, ref int pos, out TextRange token)
    {
        if (pos >= line.Length)
        {
            token = TextRange.Absent;
            return false;
        }

        var end = TokenEnd(line, pos);
        token = new TextRange(pos, end - pos);
        pos = end < line.Length ? end + 1 : end;
        return true;
    }

    public static int SkipSpaces(ReadOnlySpan<byte> line, int pos)
    {
        while (pos < line.Length && line[pos] == ' ') pos++;
        return pos;
    }

    public static int CountDigits(ReadOnlySpan<byte> line, int pos)
    {
        var i = pos;
        while (i < line.Length && IsDigit(line[i])) i++;
        return i - pos;
    }

    /// <summary>
    /// Looks like an IPv6 address (hex digits, colons, dots for an embedded IPv4, at least two colons): such a token
    /// is a hostname even when it ends with a colon (<c>1::</c>), never a <c>tag:</c>.
    /// </summary>
    public static bool LooksLikeIpv6(ReadOnlySpan<byte> token)
    {
        var colons = 0;
        foreach (var b in token)
        {
            if (b == ':') colons++;
            else if (!(IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'f' - 'a' || b == '.')) return false;
        }

        return colons >= 2;
    }

    /// <summary>Four dot-separated decimal numbers of 0–255.</summary>
    public static bool LooksLikeIpv4(ReadOnlySpan<byte> token)
    {
        var parts = 0;
        var i = 0;
        while (i < token.Length)
        {
            var digits = CountDigits(token, i);
            if (digits is 0 or > 3) return false;
            var value = 0;
            for (var k = i; k < i + digits; k++) value = value * 10 + (token[k] - '0');
            if (value > 255) return false;
            parts++;
            i += digits;
            if (i == token.Length) break;
            if (token[i] != '.' || parts == 4) return false;
            i++;
        }

        return parts == 4 && token[^1] != '.';
    }
}
