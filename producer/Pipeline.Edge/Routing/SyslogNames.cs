namespace Pipeline.Edge.Routing;

/// <summary>RFC 5424 facility and severity names, as used in route conditions.</summary>
internal static class SyslogNames
{
    private static readonly string[] Facilities =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    private static readonly string[] Severities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

    private static readonly Dictionary<string, int> SeverityAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["emergency"] = 0, ["panic"] = 0, ["critical"] = 2, ["error"] = 3, ["warn"] = 4, ["informational"] = 6,
    };

    public static int Facility(string nameOrNumber) => Lookup(nameOrNumber, Facilities, null, 23, "facility");

    public static int Severity(string nameOrNumber) => Lookup(nameOrNumber, Severities, SeverityAliases, 7, "severity");

    public static string FacilityName(int facility) => facility >= 0 && facility < Facilities.Length ? Facilities[facility] : "unknown";

    public static string SeverityName(int severity) => severity >= 0 && severity < Severities.Length ? Severities[severity] : "unknown";

    /// <summary>
    /// The syslog severity of a level as applications name it (<c>info</c>, <c>Information</c>, <c>WARN</c>, <c>fatal</c>…),
    /// case-insensitively; -1 when empty or unknown.
    /// </summary>
    public static int SeverityOfLevel(ReadOnlySpan<byte> level)
    {
        if (level.IsEmpty) return -1;
        if (Is(level, "info"u8) || Is(level, "information"u8) || Is(level, "informational"u8)) return 6;
        if (Is(level, "debug"u8) || Is(level, "trace"u8)) return 7;
        if (Is(level, "warn"u8) || Is(level, "warning"u8)) return 4;
        if (Is(level, "err"u8) || Is(level, "error"u8)) return 3;
        if (Is(level, "notice"u8)) return 5;
        if (Is(level, "crit"u8) || Is(level, "critical"u8)) return 2;
        if (Is(level, "alert"u8)) return 1;
        if (Is(level, "emerg"u8) || Is(level, "emergency"u8) || Is(level, "panic"u8) || Is(level, "fatal"u8)) return 0;
        return -1;
    }

    private static bool Is(ReadOnlySpan<byte> value, ReadOnlySpan<byte> expected) => System.Text.Ascii.EqualsIgnoreCase(value, expected);

    private static int Lookup(string value, string[] names, Dictionary<string, int>? aliases, int max, string what)
    {
        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n <= max) return n;
        var index = Array.FindIndex(names, s => string.Equals(s, value, StringComparison.OrdinalIgnoreCase));
        if (index >= 0) return index;
        if (aliases is not null && aliases.TryGetValue(value, out var alias)) return alias;
        throw new ArgumentException($"'{value}' is not a syslog {what} name or number (0-{max})");
    }
}
