using static Pipeline.Edge.Sources.Syslog.SyslogBytes;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Reads RFC 5424 and RFC 3164 (BSD) syslog lines as devices actually send them, detecting the format per line.
/// Text fields come back as ranges into the line, so parsing allocates nothing; errors are the constants of
/// <see cref="SyslogParseErrors"/>. It never throws, whatever the bytes, and never loses a line: what it cannot read
/// stays in the message, and the raw line travels with every event.
/// </summary>
/// <remarks>
/// <para><b>Status.</b> <see cref="ParseStatus.Ok"/> when the header read as a whole; <see cref="ParseStatus.Partial"/>
/// when something was missing, skipped or guessed (the error says what); <see cref="ParseStatus.Failed"/> when only the
/// raw line is usable: an empty line (<see cref="SyslogParseErrors.EmptyLine"/>), or one with neither a PRI nor
/// anything else of a header (<see cref="SyslogParseErrors.NoHeader"/>), whose message is the whole line.</para>
///
/// <para><b>Line and message.</b> White space before the PRI is skipped. The message (MSG; for RFC 3164 the content
/// after the tag) starts after any spaces (rsyslog writes two when it forwards a BSD message as RFC 5424) and a UTF-8
/// BOM (<see cref="SyslogMessage.MessageHadBom"/>), and ends before trailing spaces, tabs, CR and LF. A NUL is content:
/// transports strip their own terminators before the line gets here.</para>
///
/// <para><b>PRI.</b> <c>"&lt;" 1*3DIGIT "&gt;"</c> with a value of 0–191 and no leading zero. A bracketed PRI the RFCs
/// reject (<c>&lt;192&gt;</c>, <c>&lt;013&gt;</c>, <c>&lt;abc&gt;</c>, <c>&lt;&gt;</c>) is
/// <see cref="SyslogParseErrors.InvalidPri"/>; a line without one is <see cref="SyslogParseErrors.MissingPri"/> when a
/// header follows. Either way facility and severity are absent (never guessed) and the rest of the header is read.
/// Spaces after the PRI are skipped (<c>&lt;13&gt; Aug 16 ...</c>).</para>
///
/// <para><b>Format.</b> <c>1*3DIGIT SP</c> followed by NILVALUE or an RFC 3339 timestamp is RFC 5424 with that VERSION
/// (0 and leading zeros are <see cref="SyslogParseErrors.InvalidVersion"/>, read all the same); followed by a BSD
/// timestamp the VERSION is kept and the rest is read as RFC 3164. An ISO timestamp followed by four fields and
/// STRUCTURED-DATA is RFC 5424 without its VERSION (<see cref="SyslogParseErrors.MissingVersion"/>). Everything else
/// is RFC 3164.</para>
///
/// <para><b>RFC 5424</b> (<see cref="Rfc5424Header"/>) is read to the letter of §6: TIMESTAMP as RFC 3339 with a
/// mandatory offset (also accepted: lower-case <c>t</c>/<c>z</c>, <c>±hhmm</c>, fractions of up to 9 digits; a leap
/// second 60 becomes the next minute, as POSIX time has it), HOSTNAME ≤ 255, APP-NAME ≤ 48, PROCID ≤ 128, MSGID ≤ 32
/// bytes of printable US-ASCII (a longer or non-ASCII field keeps its range and sets its error), NILVALUE <c>-</c> for
/// any of them. STRUCTURED-DATA is NILVALUE or elements (see <see cref="StructuredData"/>); a bracketed block that is
/// not RFC syntax (Check Point's <c>[key:"value"; ...]</c>, unquoted values) is skipped whole
/// (<see cref="SyslogParseErrors.MalformedStructuredData"/>) and the message is what follows it. A header that ends
/// early is <see cref="SyslogParseErrors.TruncatedHeader"/>. MSG after NILVALUE STRUCTURED-DATA that begins or ends
/// with well-formed elements having parameters gives them up as STRUCTURED-DATA
/// (<see cref="SyslogParseErrors.StructuredDataInMessage"/>).</para>
///
/// <para><b>RFC 3164</b> (<see cref="Rfc3164Header"/>) is read as it is written in the wild, in this order:</para>
/// <list type="number">
/// <item>A device form without a header: FortiGate's <c>date=YYYY-MM-DD time=hh:mm:ss ...</c> gives the timestamp
/// (zone from <c>tz=</c>, else the table) and stays whole as the message (<see cref="KeyValueHeader"/>).</item>
/// <item>An optional Cisco sequence number, <c>digits ": "</c> (or NX-OS's bare <c>": "</c>), kept in
/// <see cref="SyslogMessage.SequenceNumber"/>. After one, <c>host ": "</c> before the timestamp is the origin
/// hostname.</item>
/// <item>A timestamp: BSD <c>Mmm dd hh:mm:ss</c> (month in any case; day space-padded, zero-padded or bare; optional
/// fraction of any length; a year before the time, <c>Mar  7 2008 19:06:53</c>, or after it,
/// <c>Apr 15 21:28:13 2007</c>), optionally with Cisco's <c>*</c> or <c>.</c> in front; NX-OS's
/// <c>yyyy Mmm dd hh:mm:ss</c> after a sequence colon; or ISO 8601 (RFC 3339, also with a space for the <c>T</c>,
/// an offset of hours alone, a redundant <c>Z+00:00</c>, or no offset). No timestamp at all is fine. Something that
/// starts like a timestamp but is not one (<c>Feb 30</c>) is kept as text and the line is Partial.</item>
/// <item>After the time, a zone label and colon (<c>UTC:</c>, <c>CET:</c>; see <see cref="ZoneAbbreviations"/>) sets
/// the offset; a bare colon (<c>Mar  7 19:06:53: host tag: ...</c>) is skipped. After Cisco's <c>time: </c>, text
/// starting with <c>%</c> that is not a vendor id is the message itself.</item>
/// <item>The hostname: after a timestamp, the next word unless it is a tag with a pid (<c>sshd[42]:</c>) or a vendor
/// id; <c>name:</c> is a device naming itself. AIX's <c>Message forwarded from host:</c> gives that host. A hostname is
/// letters, digits and <c>. - _ : % /</c> (so IPv4, IPv6 and chained <c>origin/relay</c> names), with at least one
/// letter or digit (<c>-- MARK --</c> has no host). Without a timestamp, the first word is the hostname only when it is
/// an IP address or a host-like word followed by a tag with a pid. ASA's <c>host : %ASA-...</c> is understood.</item>
/// <item>The tag, <c>name:</c>, <c>name[pid]:</c> or <c>name[pid]</c> as one word (up to 128 bytes after a timestamp,
/// 48 without), becomes APP-NAME and PROCID; a bare word is the start of the message, unless it is the only word after
/// the hostname (then it is the tag of an empty message). Snare's <c>MSWinEventLog</c> and its criticality number are
/// APP-NAME and PROCID. A vendor message id, <c>%FACILITY-SEVERITY-MNEMONIC:</c> (Cisco IOS/NX-OS/ASA/FTD), where a
/// tag would be gives APP-NAME the facility and MSGID the mnemonic, and stays at the start of the message.</item>
/// <item>Well-formed STRUCTURED-DATA elements (with parameters) at the start or end of the content are read as
/// STRUCTURED-DATA (<see cref="SyslogParseErrors.StructuredDataInMessage"/>), as rsyslog's liblogging writes them.</item>
/// </list>
/// <para><b>Time zones and years (RFC 3164).</b> A time without an offset is wall-clock time in the zone
/// <see cref="ITimeZoneResolver"/> gives for the source address and hostname. A missing year is inferred as
/// <see cref="LocalTime.TryResolve"/> says, with <see cref="SyslogParseContext.FutureDateWindow"/>. A date that does
/// not exist (Feb 29 with no leap year in reach, Apr 31) leaves Timestamp null and makes the line Partial.</para>
/// </remarks>
public static class SyslogParser
{
    private enum Pri : byte
    {
        None,
        Valid,
        Invalid,
    }

    /// <summary>Parses one syslog line (one frame, one datagram). Never throws; see the remarks for the policy.</summary>
    /// <param name="line">The line; the result's ranges point into it, so it must outlive their use.</param>
    /// <param name="context">Receive time, source address and time-zone resolver, used for RFC 3164 timestamps only.</param>
    public static SyslogMessage Parse(ReadOnlySpan<byte> line, in SyslogParseContext context)
    {
        var m = Nothing(context);

        var length = line.Length;
        var start = 0;
        while (start < length && line[start] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0) start++;
        if (start == length)
        {
            m.Message = new TextRange(0, length);
            m.Status = ParseStatus.Failed;
            m.Error = SyslogParseErrors.EmptyLine;
            return m;
        }

        var pos = start;
        var pri = ReadPri(line, ref pos, out var value);
        if (pri == Pri.Valid)
        {
            m.Facility = value >> 3;
            m.Severity = value & 7;
        }
        else
        {
            m.Error = pri == Pri.Invalid ? SyslogParseErrors.InvalidPri : SyslogParseErrors.MissingPri;
        }

        pos = SkipSpaces(line, pos);
        if (ReadVersion(line, ref pos, ref m))
        {
            Rfc5424Header.Read(line, pos, ref m);
        }
        else if (!Rfc3164Header.Read(line, pos, ref m, context) && pri == Pri.None)
        {
            // Bare text: nothing of it was a header, so nothing of it is reported as one.
            m = Nothing(context);
            m.Status = ParseStatus.Failed;
            m.Error = SyslogParseErrors.NoHeader;
            SetMessage(line, start, ref m, lookForStructuredData: false);
            return m;
        }

        if (context.Truncated) m.Error ??= SyslogParseErrors.Truncated;
        m.Status = m.Error is null ? ParseStatus.Ok : ParseStatus.Partial;
        return m;
    }

    /// <summary>A message with every field absent, before anything of the line is read.</summary>
    private static SyslogMessage Nothing(in SyslogParseContext context) => new()
    {
        Facility = -1,
        Severity = -1,
        Version = -1,
        Hostname = TextRange.Absent,
        AppName = TextRange.Absent,
        ProcId = TextRange.Absent,
        MsgId = TextRange.Absent,
        StructuredData = TextRange.Absent,
        SequenceNumber = TextRange.Absent,
        Truncated = context.Truncated,
    };

    /// <summary>
    /// Sets the message from <paramref name="pos"/>: leading spaces, then a UTF-8 BOM, are left out, and so is trailing
    /// white space. With <paramref name="lookForStructuredData"/> (the header had no STRUCTURED-DATA field of its own),
    /// elements at the start or end of the message become <see cref="SyslogMessage.StructuredData"/>.
    /// </summary>
    internal static void SetMessage(ReadOnlySpan<byte> line, int pos, ref SyslogMessage m, bool lookForStructuredData)
    {
        pos = SkipSpaces(line, Math.Min(pos, line.Length));
        if (pos + 2 < line.Length && line[pos] == 0xEF && line[pos + 1] == 0xBB && line[pos + 2] == 0xBF)
        {
            m.MessageHadBom = true;
            pos += 3;
        }

        var end = line.Length;
        while (end > pos && line[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') end--;
        if (lookForStructuredData && !m.StructuredData.IsPresent && end > pos)
        {
            var text = line[pos..end];
            var leading = StructuredDataBounds.LeadingInMessage(text);
            var trailing = leading > 0 ? -1 : StructuredDataBounds.TrailingInMessage(text);
            if (leading > 0)
            {
                m.StructuredData = new TextRange(pos, leading);
                m.Error ??= SyslogParseErrors.StructuredDataInMessage;
                pos = SkipSpaces(line, pos + leading);
            }
            else if (trailing > 0)
            {
                m.StructuredData = new TextRange(pos + trailing, end - pos - trailing);
                m.Error ??= SyslogParseErrors.StructuredDataInMessage;
                end = pos + trailing;
                while (end > pos && line[end - 1] == ' ') end--;
            }
        }

        m.Message = new TextRange(pos, end - pos);
    }

    /// <summary>
    /// Reads the PRI at <paramref name="pos"/>, moving past it when there is a bracketed one (valid or not). A <c>&lt;</c>
    /// not closed within five bytes is no PRI at all.
    /// </summary>
    private static Pri ReadPri(ReadOnlySpan<byte> line, ref int pos, out int value)
    {
        value = 0;
        if (line[pos] != '<') return Pri.None;
        var i = pos + 1;
        var end = Math.Min(line.Length, pos + 6);
        var digitsOnly = true;
        while (i < end && line[i] != '>')
        {
            digitsOnly &= IsDigit(line[i]);
            value = value * 10 + (line[i] - '0');
            i++;
        }

        if (i == end) return Pri.None;
        var digits = i - pos - 1;
        var first = line[pos + 1];
        pos = i + 1;
        return digitsOnly && digits is >= 1 and <= 3 && !(digits > 1 && first == '0') && value <= 191 ? Pri.Valid : Pri.Invalid;
    }

    /// <summary>
    /// Reads <c>1*3DIGIT SP</c> at <paramref name="pos"/> when a timestamp follows it. True (and <paramref name="pos"/>
    /// at the timestamp) when an RFC 5424 header follows; a BSD timestamp after it keeps the VERSION and returns false
    /// with <paramref name="pos"/> at that timestamp.
    /// </summary>
    private static bool ReadVersion(ReadOnlySpan<byte> line, ref int pos, ref SyslogMessage m)
    {
        // Every RFC 5424 sender today: "1 " and a timestamp or NILVALUE.
        if (pos + 2 < line.Length && line[pos] == '1' && line[pos + 1] == ' ' && (IsDigit(line[pos + 2]) || line[pos + 2] == '-'))
        {
            m.Version = 1;
            pos += 2;
            return true;
        }

        var digits = CountDigits(line, pos);
        var next = pos + digits + 1;
        if (digits is 0 or > 3 || next >= line.Length || line[next - 1] != ' ') return false;
        var version = 0;
        for (var i = pos; i < pos + digits; i++) version = version * 10 + (line[i] - '0');

        var rest = line[next..];
        var rfc5424 = (rest[0] == '-' && (rest.Length == 1 || rest[1] == ' '))
            || SyslogTimestamp.LooksLikeIso(rest)
            // VERSION 1 and a digit is RFC 5424 even when the timestamp is cut short or broken.
            || (version == 1 && digits == 1 && IsDigit(rest[0]));
        if (!rfc5424 && !SyslogTimestamp.LooksLikeBsd(rest)) return false;

        m.Version = version;
        if (version == 0 || (digits > 1 && line[pos] == '0')) m.Error ??= SyslogParseErrors.InvalidVersion;
        pos = next;
        return rfc5424;
    }
}
