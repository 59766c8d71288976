namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Walks RFC 5424 STRUCTURED-DATA's elements and parameters as ranges into the span, stopping for good at the first
/// malformed byte (the grammar as <see cref="StructuredData"/> reads it). Allocates nothing: a line's structured data
/// is walked with it when the line is parsed (to measure it) and again when it is written as JSON.
/// </summary>
internal ref struct StructuredDataReader
{
    private readonly ReadOnlySpan<byte> _s;
    private int _pos;
    private bool _inElement;

    public StructuredDataReader(ReadOnlySpan<byte> s) => _s = s;

    public bool Malformed { get; private set; }

    /// <summary>Bytes covered by the elements read to their closing bracket.</summary>
    public int CompleteLength { get; private set; }

    public bool NextElement(out TextRange id)
    {
        id = TextRange.Absent;
        while (_inElement && NextParam(out _, out _))
        {
        }

        if (Malformed || _pos >= _s.Length || _s[_pos] != '[') return false;
        var start = ++_pos;
        while (_pos < _s.Length && IsNameByte(_s[_pos])) _pos++;
        if (_pos == start || _pos >= _s.Length || (_s[_pos] != ' ' && _s[_pos] != ']'))
        {
            Malformed = true;
            return false;
        }

        id = new TextRange(start, _pos - start);
        _inElement = true;
        return true;
    }

    public bool NextParam(out TextRange name, out TextRange value)
    {
        name = value = TextRange.Absent;
        if (!_inElement) return false;
        if (_s[_pos] == ']')
        {
            _pos++;
            _inElement = false;
            CompleteLength = _pos;
            return false;
        }

        // _s[_pos] is a space here: NextElement and the end of each parameter check it.
        var start = ++_pos;
        while (_pos < _s.Length && IsNameByte(_s[_pos])) _pos++;
        if (_pos == start || _pos >= _s.Length || _s[_pos] != '=') return Fail();
        name = new TextRange(start, _pos - start);
        // A space after '=' is a sender's slip that leaves nothing ambiguous ("eventSource= \"Application\"").
        _pos++;
        while (_pos < _s.Length && _s[_pos] == ' ') _pos++;
        if (_pos >= _s.Length || _s[_pos] != '"') return Fail();
        _pos++;
        var valueStart = _pos;
        while (true)
        {
            var k = _s[_pos..].IndexOfAny((byte)'"', (byte)'\\');
            if (k < 0) return Fail();
            _pos += k;
            if (_s[_pos] == '"') break;
            _pos += 2;
            if (_pos >= _s.Length) return Fail();
        }

        value = new TextRange(valueStart, _pos - valueStart);
        _pos++;
        if (_pos >= _s.Length || (_s[_pos] != ' ' && _s[_pos] != ']')) return Fail();
        return true;
    }

    private bool Fail()
    {
        Malformed = true;
        _inElement = false;
        return false;
    }

    private static bool IsNameByte(byte b) => b is > 32 and < 127 and not (byte)'=' and not (byte)']' and not (byte)'"';
}
