using System.Text;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// Unescapes the content of a JSON string into UTF-8, as <c>Utf8JsonReader.CopyString</c> does, for the scanner's
/// fast path: envelopes the edge writes escape quotes and <c>&lt; &gt; &amp; '</c> in messages (a sixth of the
/// lines of a syslog stream), and handing each of those strings to a reader cost more than the rest of its scan.
/// </summary>
internal static class JsonUnescape
{
    /// <summary>
    /// Writes the unescaped <paramref name="escaped"/> (checked JSON string content) into <paramref name="destination"/>
    /// (at least as long); returns the bytes written, or -1 when an escape is not a JSON one or a <c>\u</c> escape is a
    /// lone surrogate (which the reader refuses too).
    /// </summary>
    public static int Unescape(ReadOnlySpan<byte> escaped, Span<byte> destination)
    {
        var written = 0;
        while (true)
        {
            var backslash = escaped.IndexOf((byte)'\\');
            if (backslash < 0)
            {
                escaped.CopyTo(destination[written..]);
                return written + escaped.Length;
            }
            escaped[..backslash].CopyTo(destination[written..]);
            written += backslash;
            escaped = escaped[backslash..];
            if (escaped.Length < 2) return -1;
            byte single;
            switch (escaped[1])
            {
                case (byte)'"': single = (byte)'"'; break;
                case (byte)'\\': single = (byte)'\\'; break;
                case (byte)'/': single = (byte)'/'; break;
                case (byte)'b': single = (byte)'\b'; break;
                case (byte)'f': single = (byte)'\f'; break;
                case (byte)'n': single = (byte)'\n'; break;
                case (byte)'r': single = (byte)'\r'; break;
                case (byte)'t': single = (byte)'\t'; break;
                case (byte)'u':
                {
                    if (!Hex(escaped, 2, out var unit)) return -1;
                    var used = 6;
                    int scalar = unit;
                    if (char.IsHighSurrogate((char)unit))
                    {
                        if (escaped.Length < 12 || escaped[6] != '\\' || escaped[7] != 'u' || !Hex(escaped, 8, out var low) || !char.IsLowSurrogate((char)low)) return -1;
                        scalar = char.ConvertToUtf32((char)unit, (char)low);
                        used = 12;
                    }
                    else if (char.IsLowSurrogate((char)unit)) return -1;
                    written += new Rune(scalar).EncodeToUtf8(destination[written..]);
                    escaped = escaped[used..];
                    continue;
                }
                default:
                    return -1;
            }
            destination[written++] = single;
            escaped = escaped[2..];
        }
    }

    private static bool Hex(ReadOnlySpan<byte> s, int at, out int value)
    {
        value = 0;
        if (at + 4 > s.Length) return false;
        for (var i = at; i < at + 4; i++)
        {
            var c = s[i];
            int digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0) return false;
            value = (value << 4) | digit;
        }
        return true;
    }
}
