using static Pipeline.Edge.Sources.Syslog.Rfc3164Tokens;
using static Pipeline.Edge.Sources.Syslog.SyslogBytes;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>Reads an RFC 3164 (BSD) header as real senders write it; the policy is in <see cref="SyslogParser"/>'s remarks.</summary>
internal static class Rfc3164Header
{
    private const int MaxSequenceDigits = 10;

    private enum StampKind : byte
    {
        None,
        Bsd,
        Iso,
        Invalid,
    }

    /// <summary>
    /// Reads from <paramref name="pos"/> (after the PRI). Returns whether anything of a syslog header was found (a
    /// timestamp or a hostname): what makes a line without a PRI a syslog line rather than bare text.
    /// </summary>
    public static bool Read(ReadOnlySpan<byte> line, int pos, ref SyslogMessage m, in SyslogParseContext context)
    {
        m.Format = SyslogFormat.Rfc3164;
        if (KeyValueHeader.TryRead(line, pos, out var deviceTime))
        {
            SyslogParser.SetMessage(line, pos, ref m, lookForStructuredData: false);
            Resolve(line, deviceTime, ref m, context);
            return true;
        }

        var len = line.Length;
        var cisco = false;
        // Cisco's sequence number, "123: ", or the bare ": " NX-OS writes without one.
        var digits = CountDigits(line, pos);
        if (digits <= MaxSequenceDigits && pos + digits + 1 < len && line[pos + digits] == ':' && line[pos + digits + 1] == ' ')
        {
            if (digits > 0) m.SequenceNumber = new TextRange(pos, digits);
            pos += digits + 2;
            cisco = true;
        }

        var kind = ReadTimestamp(line, ref pos, out var parts, ref cisco);
        if (kind == StampKind.None && m.SequenceNumber.IsPresent) kind = ReadOriginIdAndTimestamp(line, ref pos, ref parts, ref m, ref cisco);
        if (kind == StampKind.Invalid)
        {
            m.Error ??= SyslogParseErrors.InvalidTimestamp;
            kind = StampKind.None;
        }

        if (kind == StampKind.Iso && pos < len && line[pos] == ' ' && Rfc5424Header.FollowsAt(line, pos + 1))
        {
            // An RFC 5424 header whose sender left out the VERSION.
            m.Error ??= SyslogParseErrors.MissingVersion;
            Rfc5424Header.ReadFields(line, pos + 1, ref m);
            Resolve(line, parts, ref m, context);
            return true;
        }

        var timeColon = false;
        if (kind != StampKind.None && pos < len)
        {
            if (line[pos] == ' ' && TryZoneLabel(line, pos + 1, cisco, ref parts, out var afterLabel))
            {
                pos = afterLabel;
                timeColon = true;
            }
            else if (line[pos] == ':')
            {
                // Cisco ends its time with a colon ("*Mar  1 00:12:34.567: %SYS-5-..."), some devices before a hostname.
                pos++;
                timeColon = true;
            }
        }

        pos = SkipSpaces(line, pos);
        var messageHere = false;
        if (kind != StampKind.None)
        {
            messageHere = timeColon && pos < len && line[pos] == '%' && !TryVendorId(line, pos, out _, out _, out _);
            if (!messageHere && !m.Hostname.IsPresent)
            {
                ReadHostname(line, ref pos, ref m, out var namedItself);
                // After "router1: " only a vendor id or a tag with a pid is header; "Warning: ..." is the message.
                messageHere = namedItself && !TryVendorId(line, pos, out _, out _, out _)
                    && !(TryTag(line, pos, MaxTag, out _, out var pid, out _) && pid.IsPresent);
            }
        }
        else if (!m.Hostname.IsPresent)
        {
            ReadHostnameWithoutTimestamp(line, ref pos, ref m);
        }

        if (!messageHere) ReadTag(line, ref pos, ref m, kind != StampKind.None ? MaxTag : MaxTagWithoutTimestamp);
        SyslogParser.SetMessage(line, pos, ref m, lookForStructuredData: true);
        if (kind != StampKind.None) Resolve(line, parts, ref m, context);
        return kind != StampKind.None || m.Hostname.IsPresent;
    }

    private static StampKind ReadTimestamp(ReadOnlySpan<byte> line, ref int pos, out TimestampParts parts, ref bool cisco)
    {
        var rest = line[pos..];
        // Cisco marks a clock it does not trust with '*' or '.' before the time.
        var marker = rest.Length > 1 && rest[0] is (byte)'*' or (byte)'.' && SyslogTimestamp.LooksLikeBsd(rest[1..]);
        var bsd = marker ? rest[1..] : rest;
        var used = SyslogTimestamp.ParseBsd(bsd, out parts);
        if (used > 0)
        {
            pos += used + (marker ? 1 : 0);
            cisco |= marker || parts.HasFraction;
            return StampKind.Bsd;
        }

        if (cisco && (used = SyslogTimestamp.ParseYearFirst(rest, out parts)) > 0)
        {
            pos += used;
            return StampKind.Bsd;
        }

        used = SyslogTimestamp.ParseRfc3339(rest, out parts, lenient: true);
        if (used > 0 && (used == rest.Length || rest[used] is (byte)' ' or (byte)':'))
        {
            pos += used;
            return StampKind.Iso;
        }

        return SyslogTimestamp.LooksLikeBsd(bsd) || SyslogTimestamp.LooksLikeIso(rest) ? StampKind.Invalid : StampKind.None;
    }

    /// <summary>Cisco's "logging origin-id": <c>123: router1: Mar  1 00:12:34 UTC: ...</c>.</summary>
    private static StampKind ReadOriginIdAndTimestamp(ReadOnlySpan<byte> line, ref int pos, ref TimestampParts parts, ref SyslogMessage m, ref bool cisco)
    {
        var tokenEnd = TokenEnd(line, pos);
        if (tokenEnd - pos <= 1 || tokenEnd >= line.Length || line[tokenEnd - 1] != ':') return StampKind.None;
        var after = tokenEnd + 1;
        var kind = ReadTimestamp(line, ref after, out var found, ref cisco);
        if (kind is not (StampKind.Bsd or StampKind.Iso)) return StampKind.None;
        m.Hostname = new TextRange(pos, tokenEnd - 1 - pos);
        parts = found;
        pos = after;
        return kind;
    }

    /// <summary>
    /// A zone label and colon after the time (<c>UTC:</c>, <c>CET:</c>): a known label sets the offset; another 1–5
    /// letter upper-case name is skipped (the zone then comes from the time-zone table) only on a Cisco-style line
    /// followed by a vendor id, since Cisco lets an administrator name a zone anything and such a name alone cannot be
    /// told from an upper-case tag (<c>CRON:</c>).
    /// </summary>
    private static bool TryZoneLabel(ReadOnlySpan<byte> line, int pos, bool cisco, ref TimestampParts parts, out int next)
    {
        next = pos;
        var i = pos;
        while (i < line.Length && i - pos <= 5 && line[i] is >= (byte)'A' and <= (byte)'Z') i++;
        var n = i - pos;
        if (n is 0 or > 5 || i >= line.Length || line[i] != ':' || (i + 1 < line.Length && line[i + 1] != ' ')) return false;
        var after = Math.Min(i + 2, line.Length);
        if (ZoneAbbreviations.TryGetOffset(line.Slice(pos, n), out var minutes))
        {
            if (!parts.HasOffset)
            {
                parts.HasOffset = true;
                parts.OffsetMinutes = minutes;
            }
        }
        else if (!(cisco && TryVendorId(line, after, out _, out _, out _)))
        {
            return false;
        }

        next = after;
        return true;
    }

    /// <summary>After a timestamp: the word there is the hostname unless it is a tag with a pid or a vendor id.</summary>
    private static void ReadHostname(ReadOnlySpan<byte> line, ref int pos, ref SyslogMessage m, out bool namedItself)
    {
        namedItself = false;
        if (pos >= line.Length) return;
        if (TryForwardedFrom(line, pos, out var relayed, out var afterRelay))
        {
            m.Hostname = relayed;
            pos = afterRelay;
            return;
        }

        if (TryVendorId(line, pos, out _, out _, out _)) return;
        var end = TokenEnd(line, pos);
        var token = line[pos..end];
        if (!LooksLikeIpv6(token) && TryTag(line, pos, MaxTag, out var app, out var proc, out _))
        {
            // "sshd[42]:" is a program; "router1:" is a device naming itself, as Cisco's origin-id and NetScreen do.
            if (proc.IsPresent || !IsHostname(line.Slice(app.Start, app.Length))) return;
            m.Hostname = app;
            pos = end < line.Length ? end + 1 : end;
            namedItself = true;
            return;
        }

        if (!IsHostname(token)) return;
        m.Hostname = new TextRange(pos, token.Length);
        pos = end < line.Length ? end + 1 : end;
        // ASA with "logging device-id": "fw01 : %ASA-6-302013: ..."
        if (pos + 1 < line.Length && line[pos] == ':' && line[pos + 1] == ' ') pos += 2;
    }

    /// <summary>
    /// Without a timestamp RFC 3164 expects no hostname, but relays and devices still write one: the first word is taken
    /// as the hostname when it is an IP address, or when it is host-like and a tag with a pid follows it. After an
    /// address, a plain program name followed by more text is the tag: relay templates that leave out the time
    /// (<c>&lt;PRI&gt;%FROMHOST-IP% %syslogtag%%msg%</c>) write host and program and nothing else before the message.
    /// </summary>
    private static void ReadHostnameWithoutTimestamp(ReadOnlySpan<byte> line, ref int pos, ref SyslogMessage m)
    {
        if (pos >= line.Length) return;
        var end = TokenEnd(line, pos);
        var token = line[pos..end];
        var next = end < line.Length ? end + 1 : end;
        var isAddress = LooksLikeIpv4(token) || LooksLikeIpv6(token);
        if (!isAddress && !(IsHostname(token) && TryTag(line, next, MaxTagWithoutTimestamp, out _, out var proc, out _) && proc.IsPresent)) return;
        m.Hostname = new TextRange(pos, token.Length);
        pos = next;
        if (!isAddress || pos >= line.Length) return;
        var wordEnd = TokenEnd(line, pos);
        if (wordEnd < line.Length && IsProgramName(line[pos..wordEnd]))
        {
            m.AppName = new TextRange(pos, wordEnd - pos);
            pos = wordEnd + 1;
        }
    }

    /// <summary>Letters, digits and <c>. _ - /</c>, starting with a letter, at most 48 bytes: what a program is called.</summary>
    private static bool IsProgramName(ReadOnlySpan<byte> word)
    {
        if (word.IsEmpty || word.Length > MaxTagWithoutTimestamp || (uint)((word[0] | 0x20) - 'a') > 'z' - 'a') return false;
        foreach (var b in word)
        {
            if (!IsAlphanumeric(b) && b is not ((byte)'.' or (byte)'_' or (byte)'-' or (byte)'/')) return false;
        }

        return true;
    }

    private static void ReadTag(ReadOnlySpan<byte> line, ref int pos, ref SyslogMessage m, int maxTag)
    {
        if (m.AppName.IsPresent) return;
        if (TryVendorId(line, pos, out var facility, out var mnemonic, out _))
        {
            // The vendor id stays in the message, where Cisco's documentation has it; it also names app and message id.
            m.AppName = facility;
            m.MsgId = mnemonic;
            return;
        }

        if (TrySnare(line, pos, out var app, out var proc, out var next) || TryTag(line, pos, maxTag, out app, out proc, out next))
        {
            m.AppName = app;
            m.ProcId = proc;
            pos = next;
            if (TryVendorId(line, SkipSpaces(line, pos), out _, out mnemonic, out _)) m.MsgId = mnemonic;
            return;
        }

    }

    private static void Resolve(ReadOnlySpan<byte> line, in TimestampParts parts, ref SyslogMessage m, in SyslogParseContext context)
    {
        // The time-zone table is asked only when the line names no offset of its own.
        var zone = parts.HasOffset ? TimeZoneInfo.Utc : context.TimeZones?.Resolve(context.SourceIp, m.Hostname.Of(line)) ?? TimeZoneInfo.Utc;
        if (LocalTime.TryResolve(parts, zone, context.ReceivedAt, context.FutureDateWindow, out var value))
        {
            m.Timestamp = value;
            m.TimestampExtraNanoseconds = parts.ExtraNanoseconds;
        }
        else
        {
            m.Error ??= SyslogParseErrors.InvalidTimestamp;
        }
    }
}
