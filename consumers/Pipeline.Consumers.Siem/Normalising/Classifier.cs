using System.Text.RegularExpressions;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>What a classification rule found in an event.</summary>
internal sealed record Classification(ClassificationRule Rule, IReadOnlyList<KeyValuePair<string, string>> Extracted);

/// <summary>
/// Applies the ordered classification rules of the configuration; the first rule whose every pattern
/// matches wins. Patterns are compiled once and bounded in time: a pattern that runs away on a hostile
/// line counts as no match for that line, never stalls the sink.
/// </summary>
internal sealed class Classifier
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);
    private readonly CompiledRule[] _rules;

    public Classifier(IEnumerable<ClassificationRule> rules) =>
        _rules = rules.Select(r => new CompiledRule(r, Compile(r.Process), Compile(r.Message), Compile(r.Original))).ToArray();

    /// <summary>Patterns that timed out (for the metrics).</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    private long _timeouts;

    public Classification? Classify(string? process, string? message, string? original)
    {
        foreach (var rule in _rules)
        {
            try
            {
                var extracted = new List<KeyValuePair<string, string>>();
                if (!Matches(rule.Process, process, extracted) || !Matches(rule.Message, message, extracted) || !Matches(rule.Original, original, extracted))
                    continue;
                return new Classification(rule.Rule, extracted);
            }
            catch (RegexMatchTimeoutException)
            {
                Interlocked.Increment(ref _timeouts);
            }
        }
        return null;
    }

    private static bool Matches(Regex? regex, string? text, List<KeyValuePair<string, string>> extracted)
    {
        if (regex is null) return true;
        if (text is null) return false;
        var match = regex.Match(text);
        if (!match.Success) return false;
        foreach (Group group in match.Groups)
        {
            if (!group.Success || group.Value.Length == 0) continue;
            if (EcsFields.FromGroupName(group.Name) is { } field) extracted.Add(new(field, group.Value));
        }
        return true;
    }

    private static Regex? Compile(string? pattern) =>
        pattern is null ? null : new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, MatchTimeout);

    private sealed record CompiledRule(ClassificationRule Rule, Regex? Process, Regex? Message, Regex? Original);
}
