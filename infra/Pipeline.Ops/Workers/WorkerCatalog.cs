using Pipeline.Ops.Positions;

namespace Pipeline.Ops.Workers;

/// <summary>A consumer executable of the pipeline: its project, default group, metrics port and where it keeps its position.</summary>
internal sealed record Worker(string Name, string Project, string Group, int MetricsPort, StoreKind Store)
{
    /// <summary>The switch that names its database or folder, if it has one.</summary>
    public string? StoreSwitch => Name switch
    {
        "noc" or "topk" => "--postgres",
        "siem" => "--archive",
        "files" => "--output",
        _ => null,
    };
}

/// <summary>The workers <c>local</c>, <c>replay</c> and <c>lag</c> know by name.</summary>
internal static class WorkerCatalog
{
    public static readonly IReadOnlyList<Worker> All =
    [
        new("noc", "consumers/Pipeline.Consumers.Postgres", "noc_team", 9101, StoreKind.Postgres),
        new("siem", "consumers/Pipeline.Consumers.Siem", "sec_team", 9102, StoreKind.Archive),
        new("topk", "consumers/Pipeline.Consumers.TopK", "topk", 9103, StoreKind.Postgres),
        new("files", "consumers/Pipeline.Consumers.Files", "files", 9104, StoreKind.Kafka),
    ];

    public static Worker? Find(string name) => All.FirstOrDefault(w => w.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The worker whose default group this is, if any.</summary>
    public static Worker? ByGroup(string group) => All.FirstOrDefault(w => w.Group == group);
}
