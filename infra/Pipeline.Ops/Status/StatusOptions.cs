using System.CommandLine;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Workers;

namespace Pipeline.Ops.Status;

/// <summary>
/// The options <c>status</c> and <c>top</c> share: which processes to read, Kafka and the position stores,
/// the topics and groups to show, the interval. Every default fits a local run (<c>source .pipeline/local.env</c>).
/// </summary>
internal sealed class StatusOptions
{
    private readonly Option<string?> _edge = new("--edge") { Description = "Admin URL of the edge (/metrics, /healthz); none to watch no edge. Default: EDGE_URL, else http://127.0.0.1:8080." };
    private readonly Option<string[]> _workers = new("--worker")
    {
        Description = "A worker to watch, NAME=URL (repeatable; its group is read from its metrics, or is the catalog's for noc, siem, topk, files). " +
            "Default: " + string.Join(", ", WorkerCatalog.All.Select(w => $"{w.Name} at {w.Name.ToUpperInvariant()}_URL or http://127.0.0.1:{w.MetricsPort}")) + ".",
    };
    private readonly Option<string?> _topk = new("--topk") { Description = "URL of the top-k query API. Default: the worker named topk." };
    private readonly Option<string?> _kafka = CommonOptions.Kafka();
    private readonly Option<string?> _postgres = CommonOptions.Postgres();
    private readonly Option<string?> _archive = new("--archive") { Description = "SIEM archive folder, where sec_team's positions are (default: SIEM_ARCHIVE; else Kafka's committed offsets)." };
    private readonly Option<string> _topics = CommonOptions.Topics();
    private readonly Option<string[]> _groups = new("--group") { Description = "More groups to show (repeatable, or comma-separated), besides those of the watched workers." };
    private readonly Option<string> _interval = new("--interval") { Description = "How often everything is read.", DefaultValueFactory = _ => "2s" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _edge, _workers, _topk, _kafka, _postgres, _archive, _topics, _groups, _interval })
            command.Options.Add(option);
    }

    public StatusSettings Resolve(ParseResult parse)
    {
        var interval = Durations.Parse(parse.GetValue(_interval)!, "--interval");
        if (interval < TimeSpan.FromMilliseconds(200)) throw new UsageException("--interval must be at least 200ms");
        var targets = new List<ProcessTarget>();
        var edge = First(parse.GetValue(_edge), Environment.GetEnvironmentVariable("EDGE_URL")) ?? "http://127.0.0.1:8080";
        if (!edge.Equals("none", StringComparison.OrdinalIgnoreCase)) targets.Add(new ProcessTarget("edge", ProcessTarget.EdgeRole, Url(edge, "--edge"), null));

        var named = (parse.GetValue(_workers) ?? []).SelectMany(CommonOptions.SplitList).ToList();
        if (named.Count == 0)
        {
            foreach (var worker in WorkerCatalog.All)
                named.Add($"{worker.Name}={First(Environment.GetEnvironmentVariable(worker.Name.ToUpperInvariant() + "_URL")) ?? $"http://127.0.0.1:{worker.MetricsPort}"}");
        }
        foreach (var entry in named)
        {
            var eq = entry.IndexOf('=');
            if (eq <= 0) throw new UsageException($"--worker '{entry}' is not NAME=URL (e.g. noc=http://127.0.0.1:9101)");
            var name = entry[..eq].Trim();
            if (targets.Any(t => t.Name == name)) throw new UsageException($"--worker names {name} twice");
            targets.Add(new ProcessTarget(name, ProcessTarget.WorkerRole, Url(entry[(eq + 1)..], "--worker"), WorkerCatalog.Find(name)?.Group));
        }

        var topk = First(parse.GetValue(_topk)) is { } given ? Url(given, "--topk") : targets.FirstOrDefault(t => t.Name == "topk")?.Url;
        var topics = CommonOptions.SplitList(parse.GetValue(_topics));
        if (topics.Count == 0) throw new UsageException("--topics names no topic");
        var groups = (parse.GetValue(_groups) ?? []).SelectMany(CommonOptions.SplitList).Distinct().ToList();
        return new StatusSettings(targets, KafkaConnection.Resolve(parse.GetValue(_kafka)), topics, groups,
            First(parse.GetValue(_postgres), Environment.GetEnvironmentVariable("PIPELINE_POSTGRES")),
            First(parse.GetValue(_archive), Environment.GetEnvironmentVariable("SIEM_ARCHIVE")), topk, interval);
    }

    private static Uri Url(string text, string option) =>
        Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new UsageException($"{option} '{text}' is not an http:// URL");

    private static string? First(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}
