namespace Pipeline.Edge.Sources.Syslog;

/// <summary>Which syslog format a line was read as.</summary>
public enum SyslogFormat : byte
{
    Unknown = 0,
    Rfc5424 = 1,
    Rfc3164 = 2,
}

/// <summary>How well a line parsed. Every line is shipped whatever its status; the raw line always goes with it.</summary>
public enum ParseStatus : byte
{
    /// <summary>Every part of the line was understood.</summary>
    Ok = 0,
    /// <summary>The format was recognised but some part was not (e.g. a bad timestamp); the rest is kept.</summary>
    Partial = 1,
    /// <summary>Nothing could be read; only the raw line is shipped.</summary>
    Failed = 2,
}

/// <summary>A slice of the parsed line: where a field is, or that it is absent (NILVALUE, missing).</summary>
public readonly record struct TextRange(int Start, int Length)
{
    public static readonly TextRange Absent = new(0, -1);
    public bool IsPresent => Length >= 0;
    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> line) => IsPresent ? line.Slice(Start, Length) : default;
}

/// <summary>
/// One parsed syslog line. Text fields are ranges into the line the parser was given, so parsing copies
/// nothing; <see cref="Error"/> is always one of a fixed set of strings.
/// </summary>
public struct SyslogMessage
{
    public SyslogFormat Format;
    public ParseStatus Status;
    /// <summary>Why the line parsed partly or not at all; null when <see cref="Status"/> is Ok.</summary>
    public string? Error;
    /// <summary>0–23; -1 when the line has no valid PRI (nothing is guessed: the raw line travels with the event).</summary>
    public int Facility;
    /// <summary>0–7; -1 when the line has no valid PRI.</summary>
    public int Severity;
    /// <summary>The RFC 5424 VERSION as written (1 for every sender today; 0–999 are read); -1 when the line has none.</summary>
    public int Version;
    /// <summary>When the event happened at its origin, resolved to an offset; null when absent or unreadable.</summary>
    public DateTimeOffset? Timestamp;
    /// <summary>Nanoseconds beyond <see cref="Timestamp"/>'s 100 ns resolution (0–99), from a fraction of 8 or 9 digits.</summary>
    public int TimestampExtraNanoseconds;
    public TextRange Hostname;
    public TextRange AppName;
    public TextRange ProcId;
    public TextRange MsgId;
    /// <summary>RFC 5424 STRUCTURED-DATA exactly as written (elements with brackets), for <see cref="StructuredData"/>.</summary>
    public TextRange StructuredData;
    /// <summary>MSG, without a UTF-8 BOM (see <see cref="MessageHadBom"/>).</summary>
    public TextRange Message;
    public bool MessageHadBom;
    /// <summary>The sequence number a Cisco-style sender puts before the header (<c>&lt;189&gt;52: ...</c>), digits only.</summary>
    public TextRange SequenceNumber;
    /// <summary>The line was longer than its listener accepts and was cut (see <see cref="SyslogParseContext.Truncated"/>).</summary>
    public bool Truncated;
}
