using System.CommandLine;
using System.Globalization;
using Confluent.Kafka;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Positions;
using Pipeline.Ops.Workers;

namespace Pipeline.Ops.Reset;

/// <summary>
/// <c>reset</c>: move a group's position to earliest, latest, an offset or a point in time, where the group
/// really keeps it — Kafka's committed offsets, or an exactly-once sink's own store — refusing while the
/// group has live members, and refusing moves a store cannot take (see <see cref="GroupReset"/>).
/// </summary>
internal static class ResetCommand
{
    public static Command Build(OpsSeams seams)
    {
        var kafka = CommonOptions.Kafka();
        var postgres = CommonOptions.Postgres();
        var topics = CommonOptions.Topics();
        var group = new Option<string>("--group") { Description = "The group to move.", Required = true };
        var to = new Option<string>("--to") { Description = "earliest, latest, an offset, now, a relative time (-1h, -30m) or an RFC 3339 time (2026-11-21T10:00:00Z).", Required = true };
        var only = new Option<string?>("--partitions") { Description = "Only these partitions, as topic:partition, comma-separated (default: every partition of --topics)." };
        var store = new Option<string>("--store") { Description = "Where the group keeps its position: kafka, postgres or archive. Default auto: the store of a known group (noc_team, topk: postgres; sec_team: archive; files: kafka), else postgres when consumer_offsets holds the group, else kafka.", DefaultValueFactory = _ => "auto" };
        var archive = new Option<string?>("--archive") { Description = "SIEM archive folder (--store archive; default: PIPELINE_SIEM_ARCHIVE, which .pipeline/local.env sets)." };
        var force = new Option<bool>("--force") { Description = "Do not refuse because Kafka lists members (e.g. one killed whose session has not expired). The command still joins the group and refuses if another member holds any partition." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show the moves; change nothing." };
        var command = new Command("reset", "Move a group's position. Exit 0 done, 2 bad input, 3 refused (live members, or a move the sink's store cannot take).")
        {
            kafka, postgres, topics, group, to, only, store, archive, force, dryRun,
        };
        CommonOptions.SetAction(command, (parse, io, _) =>
        {
            var name = parse.GetValue(group)!.Trim();
            if (name.Length == 0) throw new UsageException("--group is empty");
            var spec = PositionSpec.Parse(parse.GetValue(to)!, "--to", DateTimeOffset.UtcNow);
            var connection = KafkaConnection.Resolve(parse.GetValue(kafka));
            using var cluster = new ClusterView(connection);
            var partitions = Select(cluster.Partitions(CommonOptions.SplitList(parse.GetValue(topics))), parse.GetValue(only));
            var postgresConnection = parse.GetValue(postgres) ?? Environment.GetEnvironmentVariable("PIPELINE_POSTGRES");
            var kind = ChooseStore(parse.GetValue(store)!, name, postgresConnection);
            var reset = new GroupReset(connection, cluster, seams, io);
            return Task.FromResult(reset.Run(new ResetRequest(name, spec, partitions, kind, postgresConnection, CommonOptions.SiemArchive(parse.GetValue(archive)), parse.GetValue(force), parse.GetValue(dryRun))));
        });
        return command;
    }

    private static StoreKind ChooseStore(string option, string group, string? postgres)
    {
        if (!option.Equals("auto", StringComparison.OrdinalIgnoreCase)) return StoreKinds.Parse(option);
        if (WorkerCatalog.ByGroup(group) is { } worker) return worker.Store;
        if (!string.IsNullOrWhiteSpace(postgres) && GroupReset.HasSinkPositions(postgres, group)) return StoreKind.Postgres;
        return StoreKind.Kafka;
    }

    private static IReadOnlyList<TopicPartition> Select(IReadOnlyList<TopicPartition> all, string? only)
    {
        if (string.IsNullOrWhiteSpace(only)) return all;
        var chosen = new List<TopicPartition>();
        foreach (var entry in CommonOptions.SplitList(only))
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(entry.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                throw new UsageException($"--partitions entry '{entry}' is not topic:partition");
            var tp = new TopicPartition(entry[..colon], number);
            if (!all.Contains(tp)) throw new UsageException($"--partitions names {entry}, which is not a partition of --topics");
            chosen.Add(tp);
        }
        return chosen;
    }
}
