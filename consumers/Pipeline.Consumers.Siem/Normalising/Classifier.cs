using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>What a classification rule found in an event.</summary>
internal sealed record Classification(ClassificationRule Rule, IReadOnlyList<KeyValuePair<string, string>> Extracted);

/// <summary>
/// Applies the ordered classification rules of the configuration; the first rule whose every pattern
/// matches wins. Patterns are compiled once and bounded in time: a pattern that runs away on a hostile
/// line counts as no match for that line, never stalls the sink.
/// The program name is the cheap filter: which rules' <c>Process</c> patterns accept a program (and what
/// they extract from it) is worked out once per name and remembered, so an event only meets the message
/// patterns of rules meant for its program (sshd lines never run the sudo rules, nginx lines no rule but
/// those on the whole line).
/// </summary>
internal sealed class Classifier
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>Program names remembered; past this many, a new name's verdicts are worked out on each event (a stream of ever new names stays bounded).</summary>
    internal const int ProcessNamesKept = 4096;

    private readonly CompiledRule[] _rules;
    private readonly ConcurrentDictionary<string, Verdict[]> _byProcess = new(StringComparer.Ordinal);
    private readonly Verdict[] _noProcess;
    private long _timeouts;

    public Classifier(IEnumerable<ClassificationRule> rules)
    {
        _rules = rules.Select(r => new CompiledRule(r, Pattern.Of(r.Process), Pattern.Of(r.Message), Pattern.Of(r.Original))).ToArray();
        _noProcess = _rules.Select(r => r.Process is null ? Verdict.Any : Verdict.No).ToArray();
    }

    /// <summary>Patterns that timed out (for the metrics).</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Program names whose verdicts are remembered.</summary>
    internal int ProcessNames => _byProcess.Count;

    public Classification? Classify(string? process, string? message, string? original)
    {
        var verdicts = Verdicts(process);
        for (var i = 0; i < _rules.Length; i++)
        {
            var verdict = verdicts[i];
            if (!verdict.Matched) continue;
            var rule = _rules[i];
            try
            {
                List<KeyValuePair<string, string>>? extracted = null;
                if (!Matches(rule.Message, message, ref extracted) || !Matches(rule.Original, original, ref extracted))
                    continue;
                // The program's groups first, then the message's and the line's: later ones win, as they always have.
                if (verdict.Extracted.Length == 0) return new Classification(rule.Rule, (IReadOnlyList<KeyValuePair<string, string>>?)extracted ?? []);
                return new Classification(rule.Rule, [.. verdict.Extracted, .. extracted ?? []]);
            }
            catch (RegexMatchTimeoutException)
            {
                Interlocked.Increment(ref _timeouts);
            }
        }
        return null;
    }

    /// <summary>Per rule, whether its Process pattern accepts <paramref name="process"/> and what it extracted.</summary>
    private Verdict[] Verdicts(string? process)
    {
        if (process is null) return _noProcess;
        if (_byProcess.TryGetValue(process, out var known)) return known;
        var verdicts = new Verdict[_rules.Length];
        var timedOut = false;
        for (var i = 0; i < _rules.Length; i++)
        {
            if (_rules[i].Process is not { } pattern)
            {
                verdicts[i] = Verdict.Any;
                continue;
            }
            try
            {
                List<KeyValuePair<string, string>>? extracted = null;
                verdicts[i] = Matches(pattern, process, ref extracted) ? new Verdict(true, extracted?.ToArray() ?? []) : Verdict.No;
            }
            catch (RegexMatchTimeoutException)
            {
                // No match for this event, and not remembered: the next event with this name tries again.
                Interlocked.Increment(ref _timeouts);
                verdicts[i] = Verdict.No;
                timedOut = true;
            }
        }
        if (!timedOut && _byProcess.Count < ProcessNamesKept) _byProcess.TryAdd(process, verdicts);
        return verdicts;
    }

    private static bool Matches(Pattern? pattern, string? text, ref List<KeyValuePair<string, string>>? extracted)
    {
        if (pattern is null) return true;
        if (text is null) return false;
        var match = pattern.Regex.Match(text);
        if (!match.Success) return false;
        foreach (var (number, field) in pattern.Fields)
        {
            var group = match.Groups[number];
            if (!group.Success || group.Length == 0) continue;
            (extracted ??= []).Add(new(field, group.Value));
        }
        return true;
    }

    /// <summary>A compiled pattern and its named groups that fill ECS fields, in group-number order.</summary>
    private sealed class Pattern(Regex regex, (int Number, string Field)[] fields)
    {
        public Regex Regex { get; } = regex;
        public (int Number, string Field)[] Fields { get; } = fields;

        public static Pattern? Of(string? text)
        {
            if (text is null) return null;
            var regex = new Regex(text, RegexOptions.Compiled | RegexOptions.CultureInvariant, MatchTimeout);
            var fields = regex.GetGroupNumbers()
                .Select(n => (Number: n, Field: EcsFields.FromGroupName(regex.GroupNameFromNumber(n))))
                .Where(g => g.Field is not null)
                .Select(g => (g.Number, g.Field!))
                .ToArray();
            return new Pattern(regex, fields);
        }
    }

    private sealed record Verdict(bool Matched, KeyValuePair<string, string>[] Extracted)
    {
        public static readonly Verdict Any = new(true, []);
        public static readonly Verdict No = new(false, []);
    }

    private sealed record CompiledRule(ClassificationRule Rule, Pattern? Process, Pattern? Message, Pattern? Original);
}
