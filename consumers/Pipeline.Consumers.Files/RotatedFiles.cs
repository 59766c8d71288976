using System.Globalization;
using System.Text.RegularExpressions;

namespace Pipeline.Consumers.Files;

/// <summary>
/// The names of a group's rotated files, <c>&lt;group&gt;-&lt;UTC stamp&gt;[-n].jsonl</c>, and their order. Order is
/// by rotation time, then by the sequence number that keeps names unique within one second (the unsuffixed file
/// was rotated first); ordering by name would put <c>-1</c> before the unsuffixed file. Only names that are this
/// group's exactly are considered, so a group called <c>&lt;group&gt;-x</c> writing to the same folder is left alone.
/// </summary>
internal static class RotatedFiles
{
    private const string StampFormat = "yyyyMMdd'T'HHmmss'Z'";

    /// <summary>
    /// A name for a file of <paramref name="group"/> rotated at <paramref name="now"/> that sorts after every rotated
    /// file already there: within one second the sequence goes past the highest one present, never back into a gap
    /// that retention left (a reused lower name would be taken for an older file and deleted first). A clock that
    /// stepped back (NTP, a moved VM) would stamp the new file before the newest one present: it takes the newest
    /// stamp and the next number instead, so names keep the order the files were rotated in.
    /// </summary>
    public static string NewName(string directory, string group, DateTimeOffset now)
    {
        var stamp = now.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture);
        var sequence = 0;
        if (Newest(directory, group) is { } newest && string.CompareOrdinal(newest.Stamp, stamp) >= 0)
            (stamp, sequence) = (newest.Stamp, newest.Sequence + 1);
        var name = sequence == 0 ? $"{group}-{stamp}.jsonl" : $"{group}-{stamp}-{sequence}.jsonl";
        return Path.Combine(directory, name);
    }

    /// <summary>The group's rotated files in <paramref name="directory"/>, oldest first.</summary>
    public static IReadOnlyList<string> OldestFirst(string directory, string group) =>
        InRotationOrder(directory, group).Select(f => f.Path).ToList();

    private static (string Stamp, int Sequence, string Path)? Newest(string directory, string group) =>
        InRotationOrder(directory, group).Select(f => ((string, int, string)?)f).LastOrDefault();

    private static IEnumerable<(string Stamp, int Sequence, string Path)> InRotationOrder(string directory, string group) =>
        Existing(directory, group).OrderBy(f => f.Stamp, StringComparer.Ordinal).ThenBy(f => f.Sequence);

    private static IEnumerable<(string Stamp, int Sequence, string Path)> Existing(string directory, string group)
    {
        var pattern = new Regex($@"^{Regex.Escape(group)}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.jsonl$", RegexOptions.CultureInvariant);
        foreach (var path in Directory.EnumerateFiles(directory, group + "-*.jsonl"))
        {
            var match = pattern.Match(Path.GetFileName(path));
            if (!match.Success) continue;
            // The stamp's fixed-width form sorts as its time does.
            var sequence = match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
            yield return (match.Groups[1].Value, sequence, path);
        }
    }
}
