using static Pipeline.Edge.Sources.Syslog.SyslogBytes;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>The words of a BSD header after its timestamp: hostname, tag, vendor message id, and the device forms that replace them.</summary>
internal static class Rfc3164Tokens
{
    public const int MaxHostname = 255;
    public const int MaxProcId = 128;
    /// <summary>Where a tag is expected (after a timestamp): RFC 3164's 32 bytes is not what programs keep to.</summary>
    public const int MaxTag = 128;
    /// <summary>Where a line has no timestamp the first word is less surely a tag: it must fit RFC 5424's APP-NAME.</summary>
    public const int MaxTagWithoutTimestamp = 48;
    private const int MaxVendorId = 64;

    /// <summary>Bytes of a hostname: letters, digits, <c>. - _</c>, <c>:</c> and <c>%</c> (IPv6, with a zone), <c>/</c> (chained relays).</summary>
    public static bool IsHostname(ReadOnlySpan<byte> token)
    {
        // A leading '%' is a vendor id or a tag ("%ASA1-120:"); inside, it is an IPv6 zone ("fe80::1%eth0").
        if (token.IsEmpty || token.Length > MaxHostname || token[0] == '%') return false;
        var alphanumeric = false;
        foreach (var b in token)
        {
            if (IsAlphanumeric(b)) alphanumeric = true;
            else if (b is not ((byte)'.' or (byte)'-' or (byte)'_' or (byte)':' or (byte)'%' or (byte)'/')) return false;
        }

        // "--" of "-- MARK --" and "---" of "--- last message repeated" are no hosts.
        return alphanumeric;
    }

    /// <summary>
    /// A tag: <c>name:</c>, <c>name[pid]:</c> or <c>name[pid]</c> as one word (a name of printable bytes, colons and
    /// closing brackets included; the pid is the last bracketed part), followed by a space or the end of the line.
    /// </summary>
    public static bool TryTag(ReadOnlySpan<byte> line, int pos, int maxName, out TextRange app, out TextRange proc, out int next)
    {
        app = proc = TextRange.Absent;
        next = pos;
        if (pos >= line.Length) return false;
        var end = TokenEnd(line, pos);
        var token = line[pos..end];
        if (token.IsEmpty || LooksLikeIpv6(token) || !AllPrintable(token)) return false;

        var body = token[^1] == ':' ? token[..^1] : token;
        var nameLength = body.Length;
        if (!body.IsEmpty && body[^1] == ']')
        {
            var open = body.LastIndexOf((byte)'[');
            var pidLength = body.Length - open - 2;
            if (open <= 0 || pidLength is <= 0 or > MaxProcId) return false;
            proc = new TextRange(pos + open + 1, pidLength);
            nameLength = open;
        }
        else if (body.Length == token.Length)
        {
            return false;
        }

        if (nameLength is 0 || nameLength > maxName)
        {
            proc = TextRange.Absent;
            return false;
        }

        app = new TextRange(pos, nameLength);
        next = end < line.Length ? end + 1 : end;
        return true;
    }

    /// <summary><c>%FACILITY-SEVERITY-MNEMONIC:</c> (Cisco IOS/NX-OS/ASA/FTD), the facility possibly with dashes of its own.</summary>
    public static bool TryVendorId(ReadOnlySpan<byte> line, int pos, out TextRange facility, out TextRange mnemonic, out int next)
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

    /// <summary>
    /// Snare's Windows event header, <c>MSWinEventLog</c> then a tab or space and the event's criticality number: APP-NAME
    /// is <c>MSWinEventLog</c> and PROCID that number (the only per-event number before the fields, as other
    /// collectors read it).
    /// </summary>
    public static bool TrySnare(ReadOnlySpan<byte> line, int pos, out TextRange app, out TextRange proc, out int next)
    {
        app = proc = TextRange.Absent;
        next = pos;
        var rest = line[pos..];
        if (!rest.StartsWith("MSWinEventLog"u8) || rest.Length < 15 || rest[13] is not ((byte)' ' or (byte)'\t')) return false;
        var digits = CountDigits(rest, 14);
        var after = 14 + digits;
        if (digits == 0 || (after < rest.Length && rest[after] is not ((byte)' ' or (byte)'\t'))) return false;
        app = new TextRange(pos, 13);
        proc = new TextRange(pos + 14, digits);
        next = pos + Math.Min(after + 1, rest.Length);
        return true;
    }

    /// <summary>AIX's relayed form, <c>Message forwarded from HOST: </c> where the hostname should be.</summary>
    public static bool TryForwardedFrom(ReadOnlySpan<byte> line, int pos, out TextRange host, out int next)
    {
        host = TextRange.Absent;
        next = pos;
        var prefix = "Message forwarded from "u8;
        if (line.Length - pos <= prefix.Length || (line[pos] | 0x20) != 'm'
            || !System.Text.Ascii.EqualsIgnoreCase(line.Slice(pos, prefix.Length), prefix))
        {
            return false;
        }
        var start = pos + prefix.Length;
        var end = TokenEnd(line, start);
        if (end - start < 2 || line[end - 1] != ':' || !IsHostname(line[start..(end - 1)])) return false;
        host = new TextRange(start, end - 1 - start);
        next = end < line.Length ? end + 1 : end;
        return true;
    }

    private static bool IsVendorByte(byte b) => IsAlphanumeric(b) || b is (byte)'_' or (byte)'-';
}
