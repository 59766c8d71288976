namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Reads RFC 5424 and RFC 3164 (BSD) syslog lines, detecting the format per line. Text fields come back as ranges
/// into the line, so the happy path allocates nothing; errors are the constants of <see cref="SyslogParseErrors"/>.
/// It never throws, whatever the bytes, and never loses a line: what it cannot read stays in the message.
/// </summary>
/// <remarks>
/// <para><b>Before anything else.</b> Trailing LF, CR and NUL bytes are cut off the line; white space, LF, CR and NUL
/// before the PRI are skipped. A line with nothing else is <see cref="ParseStatus.Failed"/>
/// (<see cref="SyslogParseErrors.EmptyLine"/>, facility and severity -1). No other line is Failed.</para>
///
/// <para><b>PRI.</b> <c>"&lt;" 1*3DIGIT "&gt;"</c> with a value of 0–191 and no leading zero (<c>&lt;0&gt;</c> is valid,
/// <c>&lt;00&gt;</c> and <c>&lt;013&gt;</c> are not). Anything else (no <c>&lt;</c>, <c>&lt;999&gt;</c>, <c>&lt;192&gt;</c>,
/// a missing <c>&gt;</c>, non-digits, a lone <c>&lt;</c>) is handled as RFC 3164 §4.3.3 tells a relay to: PRI 13
/// (facility 1 user, severity 5 notice), no other field, the whole line as the message, Format Rfc3164, Status
/// Partial, Error <see cref="SyslogParseErrors.InvalidPri"/>. RFC 5424 has no PRI above 191 either, so a line whose
/// PRI is bad is never read as RFC 5424.</para>
///
/// <para><b>Format detection.</b> After the PRI, <c>"1" SP</c> followed by <c>-</c> or a digit is RFC 5424
/// (VERSION 1, then a NILVALUE or a timestamp); anything else is RFC 3164.</para>
///
/// <para><b>RFC 5424</b> is read to the letter of §6: TIMESTAMP as RFC 3339 with a mandatory <c>Z</c> or
/// <c>±hh:mm</c> offset (also accepted: lower-case <c>t</c>/<c>z</c> and <c>±hhmm</c>; fraction digits beyond 6
/// are truncated; a leap second 60 becomes the next minute),
/// HOSTNAME ≤ 255, APP-NAME ≤ 48, PROCID ≤ 128, MSGID ≤ 32 bytes of printable US-ASCII, NILVALUE <c>-</c> for any
/// of them (field absent), STRUCTURED-DATA as NILVALUE or elements (see <see cref="StructuredData"/>), then
/// optionally SP and MSG. A UTF-8 BOM at the start of MSG sets <see cref="SyslogMessage.MessageHadBom"/> and is left
/// out of the message range. MSG keeps every byte after the single separating space, including further leading
/// spaces (rsyslog writes two when it relays a BSD message). What does not fit makes the line Partial and keeps
/// what did: a bad timestamp leaves Timestamp null; an over-long or non-ASCII field keeps its range but sets its
/// error; a header that ends early leaves the missing fields and the message absent
/// (<see cref="SyslogParseErrors.TruncatedHeader"/>); STRUCTURED-DATA that cannot be read leaves
/// <see cref="SyslogMessage.StructuredData"/> absent and the message starting where the SD did.</para>
///
/// <para><b>RFC 3164</b> is read as it is written in the wild, in this order:</para>
/// <list type="number">
/// <item>An optional Cisco sequence number, <c>digits ": "</c>, kept in <see cref="SyslogMessage.SequenceNumber"/>.
/// After one, <c>host ": "</c> before the timestamp is the origin hostname (<c>&lt;187&gt;123: router1: Mar  1 ...</c>).</item>
/// <item>A timestamp: BSD <c>Mmm dd hh:mm:ss</c> (the day space-padded as in <c>Feb  5</c>, zero-padded or bare),
/// optionally with a Cisco <c>*</c> or <c>.</c> in front (clock not authoritative), a year before the time
/// (<c>Mar  1 2024 00:12:34</c>, Cisco and ASA) and fraction digits; or an RFC 3339 timestamp
/// (rsyslog's <c>RSYSLOG_ForwardFormat</c>), with or without an offset, also with a space instead of the <c>T</c>
/// (<c>2024-03-01 10:00:00</c>, as application loggers write it). No timestamp at all is fine: Timestamp is
/// null and, as §4.3.2 says, there is no hostname either. Something that starts like a timestamp but is not one
/// (<c>Feb 30</c>, <c>25:00:00</c>) is kept as text and the line is Partial.</item>
/// <item>After a BSD time, <c>:</c> (Cisco: <c>*Mar  1 00:12:34.567: %SYS-...</c>) means no hostname follows; a
/// zone label and colon (<c>UTC:</c>) is read as UTC when it says UTC, GMT, UT or Z, and skipped (the zone is then
/// resolved as below) when it is another 1–5 letter upper-case name on a Cisco-style line (sequence number,
/// <c>*</c>/<c>.</c> marker or fraction) followed by a vendor id, since Cisco lets an administrator name a zone
/// anything and the name alone cannot be told from an upper-case tag.</item>
/// <item>The next token is the HOSTNAME unless it is a tag (<c>tag:</c>, <c>tag[pid]:</c>, <c>tag[pid]</c>) or a vendor
/// message id, in which case the host is missing (<c>&lt;13&gt;Feb  5 17:32:18 sshd[123]: msg</c>). A hostname is
/// 1–255 bytes of printable US-ASCII. ASA's <c>host : %ASA-...</c> is understood. A bare word after the hostname
/// (no colon, no brackets) is not taken as a tag: it is the first word of the message.</item>
/// <item>A tag is 1–48 bytes of printable US-ASCII except <c>[ ] :</c>, with an optional <c>[pid]</c> of up to 128
/// bytes; it becomes APP-NAME and PROCID. One space after the tag is left out of the message.</item>
/// <item>Vendor message ids, <c>%FACILITY-SEVERITY-MNEMONIC:</c> (Cisco IOS/NX-OS/ASA/FTD, e.g.
/// <c>%SYS-5-CONFIG_I:</c>, <c>%ASA-4-106023:</c>, <c>%PKT_INFRA-LINK-3-UPDOWN:</c>), are read where a tag would be:
/// APP-NAME is the facility (<c>SYS</c>, <c>ASA</c>, <c>PKT_INFRA-LINK</c>), MSGID the mnemonic (<c>CONFIG_I</c>,
/// <c>106023</c>), and the message starts after <c>": "</c>. The severity digit inside is not kept: the PRI carries
/// it and the raw line travels with every event. After a tag, a vendor id only sets MSGID; a <c>name:</c> tag
/// followed by a vendor id is taken as the hostname instead (<c>Mar  1 00:12:34 router1: %LINK-3-UPDOWN: ...</c>).</item>
/// </list>
/// <para><b>Time zones and years (RFC 3164).</b> A time without an offset is wall-clock time in the zone
/// <see cref="ITimeZoneResolver"/> gives for the source address and hostname (UTC when the context has no resolver).
/// A missing year is the one that puts the time nearest to <see cref="SyslogParseContext.ReceivedAt"/>, so New Year
/// works both ways. A time skipped by a DST change uses the offset before the change; a time that happens twice
/// uses the offset that puts it nearest to the receive time. A date that does not exist (Feb 29 with no leap year
/// near, Apr 31) leaves Timestamp null and makes the line Partial.</para>
/// </remarks>
public static class SyslogParser
{
    private const int MaxHostname = 255;
    private const int MaxAppName = 48;
    private const int MaxProcId = 128;
    private const int MaxMsgId = 32;
    private const int MaxSequenceDigits = 10;
    private const int MaxVendorId = 64;

    private enum StampKind : byte
    {
        None,
        Bsd,
        Iso,
        Invalid,
    }

    /// <summary>Parses one syslog line (one frame, one datagram). Never throws; see the remarks for the policy.</summary>
    /// <param name="line">The line; the result's ranges point into it, so it must outlive their use.</param>
    /// <param name="context">Receive time, source address and time-zone resolver, used for RFC 3164 timestamps only.</param>
    public static SyslogMessage Parse(ReadOnlySpan<byte> line, in SyslogParseContext context)
    {
        var length = line.Length;
        while (length > 0 && line[length - 1] is (byte)'\n' or (byte)'\r' or 0) length--;
        line = line[..length];

        var m = new SyslogMessage
        {
            Facility = -1,
            Severity = -1,
            Hostname = TextRange.Absent,
            AppName = TextRange.Absent,
            ProcId = TextRange.Absent,
            MsgId = TextRange.Absent,
            StructuredData = TextRange.Absent,
            SequenceNumber = TextRange.Absent,
            Message = new TextRange(0, length),
        };

        var start = 0;
        while (start < length && line[start] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0) start++;
        if (start == length)
        {
            m.Status = ParseStatus.Failed;
            m.Error = SyslogParseErrors.EmptyLine;
            return m;
        }

        var pos = ReadPri(line, start, out var pri);
        if (pos < 0)
        {
            m.Format = SyslogFormat.Rfc3164;
            m.Facility = 1;
            m.Severity = 5;
            m.Status = ParseStatus.Partial;
            m.Error = SyslogParseErrors.InvalidPri;
            return m;
        }

        m.Facility = pri >> 3;
        m.Severity = pri & 7;
        if (pos + 2 < length && line[pos] == '1' && line[pos + 1] == ' ' && (line[pos + 2] == '-' || IsDigit(line[pos + 2])))
        {
            ParseRfc5424(line, pos + 2, ref m);
        }
        else
        {
            ParseRfc3164(line, pos, ref m, context);
        }

        m.Status = m.Error is null ? ParseStatus.Ok : ParseStatus.Partial;
        return m;
    }

    /// <returns>The index after <c>&gt;</c>, or -1 when the line has no valid PRI.</returns>
    private static int ReadPri(ReadOnlySpan<byte> line, int start, out int pri)
    {
        pri = 0;
        if (line[start] != '<') return -1;
        var i = start + 1;
        var digits = 0;
        while (i < line.Length && digits <= 3 && IsDigit(line[i]))
        {
            pri = pri * 10 + (line[i] - '0');
            digits++;
            i++;
        }

        if (digits is 0 or > 3 || i >= line.Length || line[i] != '>' || pri > 191) return -1;
        if (digits > 1 && line[start + 1] == '0') return -1;
        return i + 1;
    }

    private static void ParseRfc5424(ReadOnlySpan<byte> line, int pos, ref SyslogMessage m)
    {
        m.Format = SyslogFormat.Rfc5424;
        m.Message = TextRange.Absent;

        if (!NextToken(line, ref pos, out var stamp))
        {
            m.Error = SyslogParseErrors.TruncatedHeader;
            return;
        }

        if (!IsNil(line, stamp))
        {
            var text = stamp.Of(line);
            var used = SyslogTimestamp.ParseRfc3339(text, out var parts);
            if (used == text.Length && used > 0 && parts.HasOffset && SyslogTimestamp.TryCreate(parts, out var value))
            {
                m.Timestamp = value;
            }
            else
            {
                m.Error = SyslogParseErrors.InvalidTimestamp;
            }
        }

        if (!HeaderField(line, ref pos, MaxHostname, SyslogParseErrors.InvalidHostname, ref m.Hostname, ref m.Error)
            || !HeaderField(line, ref pos, MaxAppName, SyslogParseErrors.InvalidAppName, ref m.AppName, ref m.Error)
            || !HeaderField(line, ref pos, MaxProcId, SyslogParseErrors.InvalidProcId, ref m.ProcId, ref m.Error)
            || !HeaderField(line, ref pos, MaxMsgId, SyslogParseErrors.InvalidMsgId, ref m.MsgId, ref m.Error))
        {
            return;
        }

        if (pos >= line.Length)
        {
            m.Error ??= SyslogParseErrors.TruncatedHeader;
            return;
        }

        if (line[pos] == '-' && (pos + 1 == line.Length || line[pos + 1] == ' '))
        {
            pos++;
        }
        else
        {
            var wellFormed = false;
            var used = line[pos] == '[' ? StructuredData.Measure(line[pos..], out wellFormed) : 0;
            if (used == 0 || !wellFormed || (pos + used < line.Length && line[pos + used] != ' '))
            {
                // Unreadable SD stays in the message rather than being cut at a guessed boundary.
                m.Error ??= SyslogParseErrors.MalformedStructuredData;
                SetMessage(line, pos, ref m);
                return;
            }

            m.StructuredData = new TextRange(pos, used);
            pos += used;
        }

        if (pos < line.Length) SetMessage(line, pos + 1, ref m);
    }

    private static void ParseRfc3164(ReadOnlySpan<byte> line, int pos, ref SyslogMessage m, in SyslogParseContext context)
    {
        m.Format = SyslogFormat.Rfc3164;
        var len = line.Length;
        var ciscoStyle = false;
        var hostSettled = false;

        var digits = CountDigits(line, pos);
        if (digits is > 0 and <= MaxSequenceDigits && pos + digits + 1 < len && line[pos + digits] == ':' && line[pos + digits + 1] == ' ')
        {
            m.SequenceNumber = new TextRange(pos, digits);
            pos += digits + 2;
            ciscoStyle = true;
        }

        var kind = ReadTimestamp(line, ref pos, out var parts, ref ciscoStyle);
        if (kind == StampKind.None && m.SequenceNumber.IsPresent)
        {
            // Cisco "logging origin-id": "123: router1: Mar  1 00:12:34 UTC: ..."
            var tokenEnd = TokenEnd(line, pos);
            if (tokenEnd - pos > 1 && tokenEnd < len && line[tokenEnd - 1] == ':')
            {
                var after = tokenEnd + 1;
                var kind2 = ReadTimestamp(line, ref after, out var parts2, ref ciscoStyle);
                if (kind2 is StampKind.Bsd or StampKind.Iso)
                {
                    m.Hostname = new TextRange(pos, tokenEnd - 1 - pos);
                    hostSettled = true;
                    kind = kind2;
                    parts = parts2;
                    pos = after;
                }
            }
        }

        if (kind == StampKind.Invalid)
        {
            m.Error = SyslogParseErrors.InvalidTimestamp;
            kind = StampKind.None;
        }

        if (kind != StampKind.None && pos < len)
        {
            if (line[pos] == ':')
            {
                pos++;
                if (pos < len && line[pos] == ' ') pos++;
                hostSettled = true;
            }
            else if (line[pos] == ' ')
            {
                pos++;
                if (kind == StampKind.Bsd && TryZoneLabel(line, pos, ciscoStyle, out var isUtc, out var next))
                {
                    parts.LabelledUtc = isUtc;
                    pos = next;
                    hostSettled = true;
                }
            }
        }

        // RFC 3164 §4.3.2: without a timestamp there is no hostname either.
        if (kind != StampKind.None && !hostSettled && pos < len)
        {
            ReadHostname(line, ref pos, ref m);
        }

        if (TryVendorId(line, pos, out var facility, out var mnemonic, out var afterVendor))
        {
            m.AppName = facility;
            m.MsgId = mnemonic;
            pos = afterVendor;
        }
        else if (TryTag(line, pos, out var app, out var proc, out var afterTag))
        {
            m.AppName = app;
            m.ProcId = proc;
            pos = afterTag;
            if (TryVendorId(line, pos, out _, out mnemonic, out afterVendor))
            {
                m.MsgId = mnemonic;
                pos = afterVendor;
            }
        }

        SetMessage(line, pos, ref m);

        if (kind != StampKind.None)
        {
            DateTimeOffset value;
            bool resolved;
            if (parts.HasOffset)
            {
                resolved = SyslogTimestamp.TryCreate(parts, out value);
            }
            else
            {
                var zone = parts.LabelledUtc || context.TimeZones is null
                    ? TimeZoneInfo.Utc
                    : context.TimeZones.Resolve(context.SourceIp, m.Hostname.Of(line)) ?? TimeZoneInfo.Utc;
                resolved = SyslogTimestamp.TryResolveLocal(parts, zone, context.ReceivedAt, out value);
            }

            if (resolved) m.Timestamp = value;
            else m.Error ??= SyslogParseErrors.InvalidTimestamp;
        }
    }

    private static StampKind ReadTimestamp(ReadOnlySpan<byte> line, ref int pos, out TimestampParts parts, ref bool ciscoStyle)
    {
        var rest = line[pos..];
        var marker = rest.Length > 1 && rest[0] is (byte)'*' or (byte)'.' && SyslogTimestamp.LooksLikeBsd(rest[1..]);
        var bsd = marker ? rest[1..] : rest;
        var used = SyslogTimestamp.ParseBsd(bsd, out parts);
        if (used > 0)
        {
            pos += used + (marker ? 1 : 0);
            ciscoStyle |= marker || parts.HasFraction;
            return StampKind.Bsd;
        }

        used = SyslogTimestamp.ParseRfc3339(rest, out parts, allowSpace: true);
        if (used > 0 && (used == rest.Length || rest[used] == ' '))
        {
            pos += used;
            return StampKind.Iso;
        }

        return SyslogTimestamp.LooksLikeBsd(bsd) || SyslogTimestamp.LooksLikeIso(rest) ? StampKind.Invalid : StampKind.None;
    }

    /// <summary>The token at <paramref name="pos"/> is the hostname unless it is a tag or a vendor id.</summary>
    private static void ReadHostname(ReadOnlySpan<byte> line, ref int pos, ref SyslogMessage m)
    {
        var len = line.Length;
        if (TryVendorId(line, pos, out _, out _, out _)) return;
        if (TryTag(line, pos, out var app, out var proc, out var afterTag))
        {
            // "router1: %LINK-3-UPDOWN: ..." - a device names itself, a process would not precede a vendor id.
            if (!proc.IsPresent && line[pos + app.Length] == ':' && TryVendorId(line, afterTag, out _, out _, out _))
            {
                m.Hostname = app;
                pos = afterTag;
            }

            return;
        }

        var end = TokenEnd(line, pos);
        var token = line[pos..end];
        if (token.IsEmpty || token.Length > MaxHostname || token.IndexOfAnyExceptInRange((byte)33, (byte)126) >= 0) return;
        m.Hostname = new TextRange(pos, token.Length);
        pos = end < len ? end + 1 : len;
        // ASA with "logging device-id": "fw01 : %ASA-6-302013: ..."
        if (pos + 1 < len && line[pos] == ':' && line[pos + 1] == ' ') pos += 2;
    }

    /// <summary><c>UTC:</c> and the like right after a BSD time.</summary>
    private static bool TryZoneLabel(ReadOnlySpan<byte> line, int pos, bool ciscoStyle, out bool isUtc, out int next)
    {
        isUtc = false;
        next = pos;
        var i = pos;
        while (i < line.Length && i - pos <= 5 && line[i] is >= (byte)'A' and <= (byte)'Z') i++;
        var n = i - pos;
        if (n is 0 or > 5 || i >= line.Length || line[i] != ':' || (i + 1 < line.Length && line[i + 1] != ' ')) return false;
        var name = line.Slice(pos, n);
        isUtc = name.SequenceEqual("UTC"u8) || name.SequenceEqual("GMT"u8) || name.SequenceEqual("UT"u8) || name.SequenceEqual("Z"u8);
        var after = Math.Min(i + 2, line.Length);
        // Any other name could as well be an upper-case tag ("CRON:"); Cisco puts its vendor id right after a label.
        if (!isUtc && !(ciscoStyle && TryVendorId(line, after, out _, out _, out _))) return false;
        next = after;
        return true;
    }

    /// <summary><c>tag:</c>, <c>tag[pid]:</c> or <c>tag[pid]</c>, each followed by a space or the end of the line.</summary>
    private static bool TryTag(ReadOnlySpan<byte> line, int pos, out TextRange app, out TextRange proc, out int next)
    {
        app = proc = TextRange.Absent;
        next = pos;
        var len = line.Length;
        var i = pos;
        while (i < len && i - pos <= MaxAppName && IsTagByte(line[i])) i++;
        var nameLength = i - pos;
        if (nameLength is 0 or > MaxAppName || i >= len) return false;

        if (line[i] == '[')
        {
            var pidStart = i + 1;
            var close = line[pidStart..].IndexOf((byte)']');
            if (close is <= 0 or > MaxProcId || line.Slice(pidStart, close).IndexOfAnyExceptInRange((byte)33, (byte)126) >= 0) return false;
            proc = new TextRange(pidStart, close);
            i = pidStart + close + 1;
            if (i < len && line[i] == ':') i++;
        }
        else if (line[i] == ':')
        {
            i++;
        }
        else
        {
            return false;
        }

        if (i < len)
        {
            if (line[i] != ' ') return false;
            i++;
        }

        app = new TextRange(pos, nameLength);
        next = i;
        return true;
    }

    /// <summary><c>%FACILITY-SEVERITY-MNEMONIC:</c>, the facility possibly with dashes of its own.</summary>
    private static bool TryVendorId(ReadOnlySpan<byte> line, int pos, out TextRange facility, out TextRange mnemonic, out int next)
    {
        facility = mnemonic = TextRange.Absent;
        next = pos;
        if (pos >= line.Length || line[pos] != '%') return false;
        var start = pos + 1;
        var i = start;
        while (i < line.Length && i - start < MaxVendorId && IsVendorByte(line[i])) i++;
        if (i >= line.Length || line[i] != ':') return false;

        // The first "-d-" with d a syslog severity splits facility from mnemonic.
        for (var d = start + 1; d + 2 < i; d++)
        {
            if (line[d - 1] == '-' && line[d] is >= (byte)'0' and <= (byte)'7' && line[d + 1] == '-')
            {
                facility = new TextRange(start, d - 1 - start);
                mnemonic = new TextRange(d + 2, i - d - 2);
                next = i + 1 < line.Length && line[i + 1] == ' ' ? i + 2 : i + 1;
                return true;
            }
        }

        return false;
    }

    private static bool HeaderField(ReadOnlySpan<byte> line, ref int pos, int max, string error, ref TextRange field, ref string? slot)
    {
        if (!NextToken(line, ref pos, out var token))
        {
            slot ??= SyslogParseErrors.TruncatedHeader;
            return false;
        }

        if (IsNil(line, token)) return true;
        if (token.Length == 0)
        {
            slot ??= error;
            return true;
        }

        field = token;
        if (token.Length > max || token.Of(line).IndexOfAnyExceptInRange((byte)33, (byte)126) >= 0) slot ??= error;
        return true;
    }

    private static void SetMessage(ReadOnlySpan<byte> line, int pos, ref SyslogMessage m)
    {
        if (pos + 2 < line.Length && line[pos] == 0xEF && line[pos + 1] == 0xBB && line[pos + 2] == 0xBF)
        {
            m.MessageHadBom = true;
            pos += 3;
        }

        pos = Math.Min(pos, line.Length);
        m.Message = new TextRange(pos, line.Length - pos);
    }

    /// <summary>The token from <paramref name="pos"/> to the next space; <paramref name="pos"/> moves past that space.</summary>
    private static bool NextToken(ReadOnlySpan<byte> line, ref int pos, out TextRange token)
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

    private static int TokenEnd(ReadOnlySpan<byte> line, int pos)
    {
        var space = line[pos..].IndexOf((byte)' ');
        return space < 0 ? line.Length : pos + space;
    }

    private static int CountDigits(ReadOnlySpan<byte> line, int pos)
    {
        var i = pos;
        while (i < line.Length && IsDigit(line[i])) i++;
        return i - pos;
    }

    private static bool IsNil(ReadOnlySpan<byte> line, TextRange token) => token.Length == 1 && line[token.Start] == '-';

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsTagByte(byte b) => b is > 32 and < 127 and not (byte)'[' and not (byte)']' and not (byte)':';

    private static bool IsVendorByte(byte b) =>
        b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_' or (byte)'-';
}
