namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Every value <see cref="SyslogMessage.Error"/> can take. Constant strings, so parsing allocates nothing and a
/// consumer can count errors by reason without parsing text.
/// </summary>
public static class SyslogParseErrors
{
    /// <summary>Nothing but line terminators or white space: Status Failed.</summary>
    public const string EmptyLine = "empty line";
    /// <summary>No PRI and nothing else a syslog header has (no timestamp, no address): Status Failed, the line is the message.</summary>
    public const string NoHeader = "no syslog header";
    /// <summary>No PRI, but a header follows (a timestamp, or an address): it is read; facility and severity are absent.</summary>
    public const string MissingPri = "no PRI";
    /// <summary>A PRI the RFCs reject (<c>&lt;192&gt;</c>, <c>&lt;013&gt;</c>, <c>&lt;abc&gt;</c>): facility and severity are absent, the rest is read.</summary>
    public const string InvalidPri = "invalid PRI";
    /// <summary>An RFC 5424 VERSION of 0 or with a leading zero: the header is read as RFC 5424 all the same.</summary>
    public const string InvalidVersion = "invalid VERSION";
    /// <summary>An RFC 5424 header (timestamp, four fields, STRUCTURED-DATA) without the VERSION before it.</summary>
    public const string MissingVersion = "no VERSION";
    /// <summary>A timestamp was there but could not be read (or does not exist, e.g. Feb 30): Timestamp is null.</summary>
    public const string InvalidTimestamp = "invalid TIMESTAMP";
    /// <summary>RFC 5424 header ended before STRUCTURED-DATA.</summary>
    public const string TruncatedHeader = "truncated header";
    /// <summary>An RFC 5424 HOSTNAME longer than 255 bytes, empty, or with bytes outside printable US-ASCII.</summary>
    public const string InvalidHostname = "invalid HOSTNAME";
    /// <summary>An RFC 5424 APP-NAME longer than 48 bytes, empty, or with bytes outside printable US-ASCII.</summary>
    public const string InvalidAppName = "invalid APP-NAME";
    /// <summary>An RFC 5424 PROCID longer than 128 bytes, empty, or with bytes outside printable US-ASCII.</summary>
    public const string InvalidProcId = "invalid PROCID";
    /// <summary>An RFC 5424 MSGID longer than 32 bytes, empty, or with bytes outside printable US-ASCII.</summary>
    public const string InvalidMsgId = "invalid MSGID";
    /// <summary>RFC 5424 STRUCTURED-DATA that cannot be read: a bracketed block is skipped (the raw line keeps it), else the message starts where it did.</summary>
    public const string MalformedStructuredData = "malformed STRUCTURED-DATA";
    /// <summary>STRUCTURED-DATA elements written at the start or end of MSG (the header had none) were read as STRUCTURED-DATA.</summary>
    public const string StructuredDataInMessage = "STRUCTURED-DATA read from MSG";
    /// <summary>The line was longer than its listener accepts and was cut there; what was kept is parsed.</summary>
    public const string Truncated = "line truncated";
}
