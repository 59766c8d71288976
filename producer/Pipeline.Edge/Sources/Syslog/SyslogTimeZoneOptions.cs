namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Which time zone RFC 3164 lines (which carry none) were written in, by source. Bound from configuration, e.g.
/// <code>
/// "Syslog": { "TimeZones": {
///   "DefaultTimeZone": "UTC",
///   "Rules": [
///     { "Cidr": "10.1.0.0/16", "TimeZone": "Europe/Berlin" },
///     { "Hostname": "router1", "TimeZone": "America/New_York" },
///     { "Hostname": "*.nyc.example.com", "TimeZone": "America/New_York" } ] } }
/// </code>
/// </summary>
public sealed class SyslogTimeZoneOptions
{
    /// <summary>Checked in order; the first that matches wins. Default: none.</summary>
    public IList<SyslogTimeZoneRule> Rules { get; } = new List<SyslogTimeZoneRule>();

    /// <summary>The default of <see cref="FutureDateWindow"/>: 31 days, as syslog-ng has it.</summary>
    public static readonly TimeSpan DefaultFutureDateWindow = TimeSpan.FromDays(31);

    /// <summary>IANA zone id used when no rule matches. Default: <c>UTC</c>.</summary>
    public string DefaultTimeZone { get; set; } = "UTC";

    /// <summary>
    /// RFC 3164 dates carry no year. The year taken is the latest that puts the date no more than this far ahead of the
    /// receive time (a sender's clock may run a little fast; one that seems a month ahead is last year's).
    /// Between 1 and 180 days. Default: 31 days.
    /// </summary>
    public TimeSpan FutureDateWindow { get; set; } = DefaultFutureDateWindow;
}

/// <summary>
/// One rule of <see cref="SyslogTimeZoneOptions"/>. It needs a <see cref="Cidr"/>, a <see cref="Hostname"/> or both
/// (then both must match).
/// </summary>
public sealed class SyslogTimeZoneRule
{
    /// <summary>Source address range, <c>10.1.0.0/16</c> or <c>2001:db8::/32</c>; a bare address means that address
    /// alone. IPv4 rules also match IPv4-mapped IPv6 sources. Host bits past the prefix are ignored. Default: none.</summary>
    public string? Cidr { get; set; }

    /// <summary>The line's HOSTNAME, compared without regard to ASCII case; <c>*.example.com</c> matches any name
    /// ending in <c>.example.com</c> (not <c>example.com</c> itself). Default: none.</summary>
    public string? Hostname { get; set; }

    /// <summary>IANA zone id, e.g. <c>Europe/Berlin</c>. Required.</summary>
    public string TimeZone { get; set; } = "";
}
