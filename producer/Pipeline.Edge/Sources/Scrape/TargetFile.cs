using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>
/// Reads a Prometheus <c>file_sd</c> file: a list of target groups, each <c>{ targets: [host:port, …],
/// labels: { name: value } }</c>, as JSON (<c>.json</c>) or YAML (<c>.yml</c>, <c>.yaml</c>). A file that cannot
/// be read throws <see cref="FormatException"/> naming the file and what is wrong.
/// </summary>
internal static class TargetFile
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(LowerCaseNamingConvention.Instance)
        .Build();

    /// <summary>The files <paramref name="pattern"/> names now (a wildcard may stand in the file name), in name order.</summary>
    public static IReadOnlyList<string> Expand(string pattern)
    {
        var name = Path.GetFileName(pattern);
        if (name.AsSpan().IndexOfAny('*', '?') < 0) return File.Exists(pattern) ? [pattern] : [];
        var directory = Path.GetDirectoryName(pattern) is { Length: > 0 } d ? d : ".";
        if (!Directory.Exists(directory)) return [];
        return [.. Directory.GetFiles(directory, name).Order(StringComparer.Ordinal)];
    }

    public static IReadOnlyList<ScrapeTarget> Read(string path, ScrapeFileOptions file, ScrapeTargetFactory factory)
    {
        List<Group> groups;
        try
        {
            var text = File.ReadAllText(path);
            groups = Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".json" => ReadJson(text),
                ".yml" or ".yaml" => ReadYaml(text),
                _ => throw new FormatException("a target file ends in .json, .yml or .yaml"),
            };
        }
        catch (Exception ex) when (ex is JsonException or YamlException or IOException or UnauthorizedAccessException or FormatException)
        {
            throw new FormatException($"target file {path}: {ex.Message}", ex);
        }
        var targets = new List<ScrapeTarget>();
        for (var g = 0; g < groups.Count; g++)
        {
            foreach (var address in groups[g].Targets)
            {
                try
                {
                    targets.Add(factory.FromGroup(file, address, groups[g].Labels));
                }
                catch (Exception ex) when (ex is FormatException or ArgumentException)
                {
                    throw new FormatException($"target file {path}, group {g + 1}: {ex.Message}", ex);
                }
            }
        }
        return targets;
    }

    private sealed record Group(IReadOnlyList<string> Targets, IReadOnlyDictionary<string, string> Labels);

    private static List<Group> ReadJson(string text)
    {
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        if (document.RootElement.ValueKind != JsonValueKind.Array) throw new FormatException("the file must hold a JSON array of target groups");
        var groups = new List<Group>();
        foreach (var element in document.RootElement.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object) throw new FormatException("each target group must be an object");
            var targets = new List<string>();
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (element.TryGetProperty("targets", out var list))
            {
                if (list.ValueKind != JsonValueKind.Array) throw new FormatException("'targets' must be an array of strings");
                foreach (var target in list.EnumerateArray())
                    targets.Add(target.ValueKind == JsonValueKind.String ? target.GetString()! : throw new FormatException("'targets' must be an array of strings"));
            }
            if (element.TryGetProperty("labels", out var map) && map.ValueKind != JsonValueKind.Null)
            {
                if (map.ValueKind != JsonValueKind.Object) throw new FormatException("'labels' must be an object of strings");
                foreach (var label in map.EnumerateObject())
                    labels[label.Name] = label.Value.ValueKind == JsonValueKind.String ? label.Value.GetString()! : throw new FormatException($"label '{label.Name}' must be a string");
            }
            groups.Add(new Group(targets, labels));
        }
        return groups;
    }

    private static List<Group> ReadYaml(string text)
    {
        var documents = Yaml.Deserialize<List<YamlGroup>?>(text) ?? [];
        return [.. documents.Select(d => new Group(
            (IReadOnlyList<string>?)d.Targets?.Select(t => t ?? throw new FormatException("an empty target")).ToList() ?? [],
            (IReadOnlyDictionary<string, string>?)d.Labels?.ToDictionary(l => l.Key, l => l.Value ?? "", StringComparer.Ordinal) ?? new Dictionary<string, string>()))];
    }

    /// <summary>A target group as YamlDotNet reads it.</summary>
    private sealed class YamlGroup
    {
        public List<string?>? Targets { get; set; }
        public Dictionary<string, string?>? Labels { get; set; }
    }
}
