using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Says which time zone an RFC 3164 line was written in, from <see cref="SyslogTimeZoneOptions"/>: rules by source
/// address range and by hostname, first match wins, <see cref="SyslogTimeZoneOptions.DefaultTimeZone"/> otherwise.
/// Every rule is parsed and checked once, here: a bad CIDR or an unknown zone id throws an
/// <see cref="ArgumentException"/> that names the rule, so a typo stops start-up instead of shifting timestamps.
/// <see cref="Resolve"/> allocates nothing.
/// </summary>
public sealed class SourceTimeZoneTable : ITimeZoneResolver
{
    private readonly Rule[] _rules;
    private readonly TimeZoneInfo _default;

    public SourceTimeZoneTable(SyslogTimeZoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _default = FindZone(options.DefaultTimeZone, $"{nameof(SyslogTimeZoneOptions.DefaultTimeZone)} '{options.DefaultTimeZone}'");
        _rules = new Rule[options.Rules.Count];
        for (var i = 0; i < _rules.Length; i++) _rules[i] = Compile(options.Rules[i], i);
    }

    public TimeZoneInfo Resolve(IPAddress? sourceIp, ReadOnlySpan<byte> hostname)
    {
        var family = AddressFamily.Unspecified;
        UInt128 address = 0;
        if (sourceIp is not null)
        {
            Span<byte> bytes = stackalloc byte[16];
            if (sourceIp.TryWriteBytes(bytes, out var written)) family = Read(bytes[..written], out address);
        }

        foreach (var rule in _rules)
        {
            if (rule.Family != AddressFamily.Unspecified
                && (rule.Family != family || (address & rule.Mask) != rule.Network))
            {
                continue;
            }

            if (rule.Host is not null && !MatchesHost(rule, hostname)) continue;
            return rule.Zone;
        }

        return _default;
    }

    private static bool MatchesHost(Rule rule, ReadOnlySpan<byte> hostname)
    {
        var host = rule.Host.AsSpan();
        if (!rule.Wildcard) return Ascii.EqualsIgnoreCase(hostname, host);
        return hostname.Length > host.Length && Ascii.EqualsIgnoreCase(hostname[^host.Length..], host);
    }

    /// <summary>IPv4 (also IPv4-mapped IPv6) as a 32-bit value, IPv6 as 128 bits.</summary>
    private static AddressFamily Read(ReadOnlySpan<byte> bytes, out UInt128 value)
    {
        if (bytes.Length == 4)
        {
            value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
            return AddressFamily.InterNetwork;
        }

        if (bytes.Length == 16)
        {
            // ::ffff:a.b.c.d is how a dual-mode socket reports an IPv4 sender.
            if (bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xFF && bytes[11] == 0xFF)
            {
                value = BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]);
                return AddressFamily.InterNetwork;
            }

            value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
            return AddressFamily.InterNetworkV6;
        }

        value = 0;
        return AddressFamily.Unspecified;
    }

    private static Rule Compile(SyslogTimeZoneRule rule, int index)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var name = $"Syslog time-zone rule {index} (Cidr '{rule.Cidr}', Hostname '{rule.Hostname}', TimeZone '{rule.TimeZone}')";
        var hasCidr = !string.IsNullOrWhiteSpace(rule.Cidr);
        var hasHost = !string.IsNullOrWhiteSpace(rule.Hostname);
        if (!hasCidr && !hasHost) throw new ArgumentException($"{name}: needs a Cidr, a Hostname or both.");

        var family = AddressFamily.Unspecified;
        UInt128 network = 0, mask = 0;
        if (hasCidr && !TryParseCidr(rule.Cidr!.Trim(), out family, out network, out mask))
        {
            throw new ArgumentException($"{name}: '{rule.Cidr}' is not an address range such as 10.1.0.0/16 or 2001:db8::/32.");
        }

        byte[]? host = null;
        var wildcard = false;
        if (hasHost)
        {
            var pattern = rule.Hostname!.Trim();
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                wildcard = true;
                pattern = pattern[1..];
            }

            if (pattern.Length < (wildcard ? 2 : 1) || pattern.Contains('*', StringComparison.Ordinal) || !Ascii.IsValid(pattern))
            {
                throw new ArgumentException($"{name}: '{rule.Hostname}' is not a hostname or a '*.domain' pattern (ASCII only).");
            }

            host = Encoding.ASCII.GetBytes(pattern);
        }

        return new Rule(family, network, mask, host, wildcard, FindZone(rule.TimeZone, name));
    }

    private static bool TryParseCidr(string text, out AddressFamily family, out UInt128 network, out UInt128 mask)
    {
        family = AddressFamily.Unspecified;
        network = mask = 0;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        // IPAddress.TryParse takes legacy shorthands ("10.1" is 10.0.0.1); a range wants all four parts.
        var isV6 = addressText.Contains(':', StringComparison.Ordinal);
        if (!isV6 && addressText.Count(c => c == '.') != 3) return false;
        if (!IPAddress.TryParse(addressText, out var address)) return false;

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written)) return false;
        family = Read(bytes[..written], out var value);
        if (family == AddressFamily.Unspecified) return false;

        var width = family == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = width;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > width))
        {
            return false;
        }

        mask = prefix == 0 ? 0 : (UInt128.MaxValue << (128 - prefix)) >> (128 - width);
        network = value & mask;
        return true;
    }

    private static TimeZoneInfo FindZone(string? id, string where)
    {
        if (string.IsNullOrWhiteSpace(id)) throw new ArgumentException($"{where}: a time-zone id such as 'Europe/Berlin' is required.");
        try
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(id.Trim());
            // The parser converts UTC-equivalent zones (Etc/UTC, UTC, Zulu) without any zone lookups.
            return zone.BaseUtcOffset == TimeSpan.Zero && !zone.SupportsDaylightSavingTime ? TimeZoneInfo.Utc : zone;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ArgumentException($"{where}: '{id}' is not a time-zone id known here (use IANA ids such as 'Europe/Berlin').", e);
        }
    }

    private sealed record Rule(AddressFamily Family, UInt128 Network, UInt128 Mask, byte[]? Host, bool Wildcard, TimeZoneInfo Zone);
}
