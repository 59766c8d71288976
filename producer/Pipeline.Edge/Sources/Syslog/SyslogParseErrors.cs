namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Every value <see cref="SyslogMessage.Error"/> can take. Constant strings, so parsing allocates nothing and a
/// consumer can count errors by reason without parsing text.
/// </summary>
public static class SyslogParseErrors
{
    /// <summary>Nothing but line terminators or white space: Status Failed.</summary>
    public const string EmptyLine = "empty line";
    /// <summary>No PRI, or one the RFCs reject (<c>&lt;999&gt;</c>, <c>&lt;013&gt;</c>, no <c>&gt;</c>): read as PRI 13, whole line as message.</summary>
    public const string InvalidPri = "invalid PRI";
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
    /// <summary>RFC 5424 STRUCTURED-DATA that cannot be read; the message then starts where it did.</summary>
    public const string MalformedStructuredData = "malformed STRUCTURED-DATA";
}
