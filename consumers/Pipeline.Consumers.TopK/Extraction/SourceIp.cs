using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// Finds the address a message is about — the client, the attacker, the peer — in the forms common log
/// lines use: <c>from 1.2.3.4</c> (sshd, su, many daemons), <c>SRC=1.2.3.4</c> (iptables), <c>rhost=1.2.3.4</c>
/// (PAM), <c>client 1.2.3.4</c> / <c>[client 1.2.3.4:51234]</c> (Apache, BIND), <c>client=host[1.2.3.4]</c>
/// (Postfix), <c>remote_addr=</c>, <c>ip=</c>, <c>peer</c>, <c>source</c>. An address right after one of those
/// words wins; otherwise the first IPv4 address in the message; IPv6 only after such a word (a bare
/// <c>a:b:c</c> is too often something else). Ports and brackets are dropped. No regular expression.
/// </summary>
internal static class SourceIp
{
    /// <summary>Room a found address may need (an IPv6 address with a scope, as formatted).</summary>
    public const int MaxLength = 64;

    private static readonly SearchValues<byte> DigitOrColon = SearchValues.Create("0123456789:"u8);

    // Words (lower case) that, right before an address, say it is the source; matched as a word suffix
    // so "rhost", "src_ip", "client_ip", "remote_addr" are covered by "host", "ip", "addr".
    private static readonly string[] MarkerWords = ["from", "src", "host", "client", "remote", "ip", "addr", "address", "source", "peer", "by"];

    // The markers by their last letter: a word is compared with the one or two that end as it does.
    private static readonly byte[][][] MarkersByLastLetter = [.. Enumerable.Range(0, 26)
        .Select(letter => MarkerWords.Where(m => m[^1] == 'a' + letter).Select(Encoding.ASCII.GetBytes).ToArray())];

    /// <summary>
    /// Writes the source address of the UTF-8 <paramref name="message"/> into <paramref name="destination"/>
    /// (≥ <see cref="MaxLength"/> bytes); returns its length, or 0 if none. Everything an address and its marker are
    /// made of is ASCII, and a byte of a multi-byte char is none of it, so the UTF-8 is read as it is.
    /// </summary>
    public static int Find(ReadOnlySpan<byte> message, Span<byte> destination)
    {
        var firstV4Start = -1;
        var firstV4Length = 0;
        var at = 0;
        while (at < message.Length)
        {
            // Only a run of address chars holding a digit or ':' can be an address: jump to the next such char
            // (a vectorised search), then out to its run's ends.
            var hit = message[at..].IndexOfAny(DigitOrColon);
            if (hit < 0) break;
            hit += at;
            var i = hit;
            while (i > at && IsAddressChar(message[i - 1])) i--;
            var end = hit + 1;
            while (end < message.Length && IsAddressChar(message[end])) end++;
            at = end;
            // Candidate tokens start at a hex digit or ':' (a run that starts with '.' is none).
            if (!(char.IsAsciiHexDigit((char)message[i]) || message[i] == ':')) continue;
            var token = TrimToken(message[i..end]);
            if (token.Length > 0)
            {
                var v4 = Ipv4Length(token);
                if (v4 > 0)
                {
                    if (HasMarkerBefore(message, i)) return Copy(token[..v4], destination);
                    if (firstV4Start < 0)
                    {
                        firstV4Start = i;
                        firstV4Length = v4;
                    }
                }
                else if (token.Contains((byte)':') && HasMarkerBefore(message, i))
                {
                    var v6 = Ipv6(token, destination);
                    if (v6 > 0) return v6;
                }
            }
        }
        return firstV4Start >= 0 ? Copy(message.Slice(firstV4Start, firstV4Length), destination) : 0;
    }

    /// <summary>The address as a new string, or null (for tests and tools).</summary>
    public static string? Find(string message)
    {
        Span<byte> buffer = stackalloc byte[MaxLength];
        var n = Find(Encoding.UTF8.GetBytes(message), buffer);
        return n == 0 ? null : Encoding.UTF8.GetString(buffer[..n]);
    }

    /// <summary>True when the whole UTF-8 token is an IPv4 address (optionally with :port) or an IPv6 address (optionally bracketed with a port).</summary>
    public static bool IsAddress(ReadOnlySpan<byte> token)
    {
        var v4 = Ipv4Length(token);
        if (v4 > 0) return v4 == token.Length || (token[v4] == ':' && IsDigits(token[(v4 + 1)..]));
        if (token.Length > 1 && token[0] == '[')
        {
            var close = token.IndexOf((byte)']');
            if (close < 0) return false;
            token = token[1..close];
        }
        return token.Count((byte)':') >= 2 && ParseIpv6(token) is not null;
    }

    private static bool IsAddressChar(byte c) => char.IsAsciiHexDigit((char)c) || c is (byte)'.' or (byte)':';

    private static ReadOnlySpan<byte> TrimToken(ReadOnlySpan<byte> token)
    {
        while (token.Length > 0 && token[^1] is (byte)'.' or (byte)':') token = token[..^1];
        return token;
    }

    /// <summary>Length of a dotted-quad IPv4 address at the start of <paramref name="s"/> (each part 0-255), or 0.</summary>
    private static int Ipv4Length(ReadOnlySpan<byte> s)
    {
        var at = 0;
        for (var part = 0; part < 4; part++)
        {
            if (part > 0)
            {
                if (at >= s.Length || s[at] != '.') return 0;
                at++;
            }
            var digits = 0;
            var value = 0;
            while (at < s.Length && char.IsAsciiDigit((char)s[at]) && digits < 4)
            {
                value = value * 10 + (s[at] - '0');
                digits++;
                at++;
            }
            if (digits is 0 or > 3 || value > 255) return 0;
        }
        // "1.2.3.4.5" or "1.2.3.4a" is not an address.
        if (at < s.Length && (char.IsAsciiLetterOrDigit((char)s[at]) || (s[at] == '.' && at + 1 < s.Length && char.IsAsciiDigit((char)s[at + 1])))) return 0;
        return at;
    }

    private static int Ipv6(ReadOnlySpan<byte> token, Span<byte> destination)
    {
        if (token.Count((byte)':') < 2 || ParseIpv6(token) is not { } ip) return 0;
        return ip.TryFormat(destination, out var written) ? written : 0;
    }

    /// <summary>
    /// The IPv6 address <paramref name="token"/> is, or null: parsed from its chars, as the address parser reads them
    /// (a scope may be an interface name, in any script).
    /// </summary>
    private static IPAddress? ParseIpv6(ReadOnlySpan<byte> token)
    {
        char[]? rented = null;
        var chars = token.Length <= 128 ? stackalloc char[token.Length] : (rented = ArrayPool<char>.Shared.Rent(token.Length));
        try
        {
            var n = Encoding.UTF8.GetChars(token, chars);
            return IPAddress.TryParse(chars[..n], out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? ip : null;
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>True when the word before position <paramref name="at"/> (over spaces, '=', ':', '[', quotes) is a source marker.</summary>
    private static bool HasMarkerBefore(ReadOnlySpan<byte> message, int at)
    {
        var end = at;
        while (end > 0 && message[end - 1] is (byte)' ' or (byte)'=' or (byte)':' or (byte)'[' or (byte)'"' or (byte)'\'' or (byte)'\t') end--;
        if (end == at) return false;
        // Postfix's "client=host[1.2.3.4]": the bracket follows a host name that follows the marker.
        if (message[at - 1] == '[')
        {
            var name = end;
            while (name > 0 && (char.IsAsciiLetterOrDigit((char)message[name - 1]) || message[name - 1] is (byte)'.' or (byte)'-' or (byte)'_')) name--;
            if (name < end && name > 0 && message[name - 1] == '=') end = name - 1;
        }
        var start = end;
        while (start > 0 && (char.IsAsciiLetter((char)message[start - 1]) || message[start - 1] == '_')) start--;
        var word = message[start..end];
        if (word.Length == 0 || word.Length > 16) return false;
        // The word's last char is a letter or '_' (which ends no marker).
        var last = word[^1] | 0x20;
        if (last is < 'a' or > 'z') return false;
        foreach (var marker in MarkersByLastLetter[last - 'a'])
            if (EndsWithIgnoringCase(word, marker)) return true;
        return false;
    }

    /// <summary>Whether the word (ASCII letters and '_') ends with the lower-case <paramref name="marker"/>, in any case.</summary>
    private static bool EndsWithIgnoringCase(ReadOnlySpan<byte> word, byte[] marker)
    {
        if (marker.Length > word.Length) return false;
        var tail = word[^marker.Length..];
        // Setting 0x20 lowers an ASCII letter and turns '_' into DEL, which is in no marker.
        for (var i = 0; i < marker.Length; i++)
            if ((tail[i] | 0x20) != marker[i]) return false;
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty) return false;
        foreach (var c in s)
            if (!char.IsAsciiDigit((char)c)) return false;
        return true;
    }

    private static int Copy(ReadOnlySpan<byte> address, Span<byte> destination)
    {
        if (address.Length > destination.Length) return 0;
        ShortBytes.Copy(address, destination);
        return address.Length;
    }
}
