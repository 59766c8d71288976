using System.Globalization;
using System.Text.RegularExpressions;
using Pipeline.Ops.Cli;

namespace Pipeline.Ops.Tail;

/// <summary>
/// Which lines <c>tail</c> prints. Every given filter must match (and); within one, any value may (or).
/// <list type="bullet">
/// <item><c>--host</c>, <c>--app</c>: names, comma-separated, case-insensitive, <c>*</c> as a wildcard (<c>web-*</c>);</item>
/// <item><c>--severity</c>: a keyword or number means that severity or worse, as syslog selectors do
///   (<c>warning</c> = emerg…warning); <c>=err</c> means exactly err; comma-separated values add up;
///   lines without a severity (HTTP events) do not match;</item>
/// <item><c>--text</c>: a case-insensitive substring of the message; <c>--regex</c>: a .NET regular expression on it.</item>
/// </list>
/// </summary>
internal sealed class TailFilter
{
    // The names syslog implementations also accept for the RFC 5424 keywords.
    private static readonly Dictionary<string, int> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["emergency"] = 0, ["panic"] = 0, ["critical"] = 2, ["error"] = 3, ["warn"] = 4, ["informational"] = 6,
    };

    private readonly Regex[] _hosts;
    private readonly Regex[] _apps;
    private readonly bool[]? _severities;
    private readonly string? _text;
    private readonly Regex? _regex;

    private TailFilter(Regex[] hosts, Regex[] apps, bool[]? severities, string? text, Regex? regex)
    {
        _hosts = hosts;
        _apps = apps;
        _severities = severities;
        _text = text;
        _regex = regex;
    }

    public static TailFilter Create(string? hosts, string? apps, string? severity, string? text, string? regex)
    {
        Regex? pattern = null;
        if (!string.IsNullOrEmpty(regex))
        {
            try
            {
                pattern = new Regex(regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException ex)
            {
                throw new UsageException($"--regex '{regex}' is not a regular expression: {ex.Message}", ex);
            }
        }
        return new TailFilter(Globs(hosts), Globs(apps), Severities(severity), string.IsNullOrEmpty(text) ? null : text, pattern);
    }

    public bool Matches(TailLine line)
    {
        if (_hosts.Length > 0 && !_hosts.Any(h => h.IsMatch(line.Host))) return false;
        if (_apps.Length > 0 && !_apps.Any(a => a.IsMatch(line.App))) return false;
        if (_severities is not null && (line.Severity is not (>= 0 and <= 7) || !_severities[line.Severity.Value])) return false;
        if (_text is not null && !line.Message.Contains(_text, StringComparison.OrdinalIgnoreCase)) return false;
        if (_regex is not null && !_regex.IsMatch(line.Message)) return false;
        return true;
    }

    private static Regex[] Globs(string? list) =>
        CommonOptions.SplitList(list).Select(g => new Regex("^" + Regex.Escape(g).Replace("\\*", ".*", StringComparison.Ordinal) + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)).ToArray();

    private static bool[]? Severities(string? list)
    {
        var values = CommonOptions.SplitList(list);
        if (values.Count == 0) return null;
        var allowed = new bool[8];
        foreach (var value in values)
        {
            var exact = value.StartsWith('=');
            var name = exact ? value[1..] : value;
            var level = int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= 7 ? number
                : Aliases.TryGetValue(name, out var alias) ? alias
                : TailLine.SeverityKeywords.ToList().FindIndex(k => k.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (level < 0) throw new UsageException($"--severity '{value}' is not 0-7 or one of {string.Join(", ", TailLine.SeverityKeywords)} (=name for exactly that one)");
            if (exact) allowed[level] = true;
            else for (var s = 0; s <= level; s++) allowed[s] = true;
        }
        return allowed;
    }
}
