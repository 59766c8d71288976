namespace Pipeline.Edge.Sources.Scrape.Exposition;

/// <summary>
/// Walks the label pairs of a label set the parser has already checked (<see cref="ParsedSample.Labels"/>),
/// giving each name and value as written; a bare quoted string (the UTF-8 metric name form) is skipped.
/// </summary>
internal ref struct LabelReader(ReadOnlySpan<byte> inside)
{
    private readonly ReadOnlySpan<byte> _text = inside;
    private int _at;

    /// <summary>The next pair; names and values are raw (see <see cref="Unescape"/> when the flag says so).</summary>
    public bool Next(out ReadOnlySpan<byte> name, out bool nameEscaped, out ReadOnlySpan<byte> value, out bool valueEscaped)
    {
        while (true)
        {
            SkipSeparators();
            if (_at >= _text.Length)
            {
                name = value = default;
                nameEscaped = valueEscaped = false;
                return false;
            }
            if (_text[_at] == '"')
            {
                name = Quoted(out nameEscaped);
            }
            else
            {
                var start = _at;
                while (_at < _text.Length && _text[_at] is not ((byte)'=' or (byte)' ' or (byte)'\t')) _at++;
                name = _text[start.._at];
                nameEscaped = false;
            }
            SkipBlanks();
            if (_at >= _text.Length || _text[_at] != '=') continue; // the metric name, not a label
            _at++;
            SkipBlanks();
            value = Quoted(out valueEscaped);
            return true;
        }
    }

    /// <summary>Writes <paramref name="raw"/> with <c>\\</c>, <c>\"</c> and <c>\n</c> undone (other escapes kept as written); returns the length.</summary>
    public static int Unescape(ReadOnlySpan<byte> raw, Span<byte> into)
    {
        var written = 0;
        while (true)
        {
            var slash = raw.IndexOf((byte)'\\');
            if (slash < 0 || slash == raw.Length - 1)
            {
                raw.CopyTo(into[written..]);
                return written + raw.Length;
            }
            raw[..slash].CopyTo(into[written..]);
            written += slash;
            switch (raw[slash + 1])
            {
                case (byte)'n': into[written++] = (byte)'\n'; break;
                case (byte)'\\': into[written++] = (byte)'\\'; break;
                case (byte)'"': into[written++] = (byte)'"'; break;
                default:
                    into[written++] = (byte)'\\';
                    into[written++] = raw[slash + 1];
                    break;
            }
            raw = raw[(slash + 2)..];
        }
    }

    private ReadOnlySpan<byte> Quoted(out bool escaped)
    {
        escaped = false;
        var start = ++_at;
        while (_text[_at] != '"')
        {
            if (_text[_at] == '\\')
            {
                escaped = true;
                _at++;
            }
            _at++;
        }
        return _text[start.._at++];
    }

    private void SkipSeparators()
    {
        while (_at < _text.Length && _text[_at] is (byte)' ' or (byte)'\t' or (byte)',') _at++;
    }

    private void SkipBlanks()
    {
        while (_at < _text.Length && _text[_at] is (byte)' ' or (byte)'\t') _at++;
    }
}
