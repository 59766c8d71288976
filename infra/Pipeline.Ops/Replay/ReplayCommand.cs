using System.CommandLine;
using System.Globalization;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Workers;

namespace Pipeline.Ops.Replay;

/// <summary>
/// <c>replay</c>: a bounded replay (backfill) as one command. Both ends are resolved to offsets per
/// partition, a backfill group (<c>&lt;group&gt;.backfill-&lt;time&gt;</c>) is given the start offsets in the
/// sink's own store, and the sink's executable is run under that group with <c>--stop-at</c> the end offsets:
/// the live group keeps running, and the worker exits once the range is written. The sinks' id-based
/// deduplication keeps a range that is already there from being written twice (the NOC sink skips the rows
/// it has). Progress (events/s, remaining lag, ETA) is printed while it runs.
/// </summary>
internal static class ReplayCommand
{
    public static Command Build(OpsSeams seams)
    {
        var kafka = CommonOptions.Kafka();
        var postgres = CommonOptions.Postgres();
        var topics = CommonOptions.Topics();
        var into = new Option<string>("--into") { Description = "The sink to replay into: noc, siem, topk or files (optionally sink:group, e.g. noc:noc_team).", Required = true };
        var from = new Option<string>("--from") { Description = "Start: earliest, an offset, a time (RFC 3339), now or a relative time (-1h).", Required = true };
        var to = new Option<string>("--to") { Description = "End (exclusive): latest, an offset, a time, now or a relative time.", DefaultValueFactory = _ => "latest" };
        var rate = new Option<double?>("--rate") { Description = "At most this many events per second (leave room for the live groups)." };
        var group = new Option<string?>("--group") { Description = "The live group the backfill group is named after (default: the sink's)." };
        var backfill = new Option<string?>("--backfill-group") { Description = "Name of the backfill group (default: <group>.backfill-<UTC time>); must be new." };
        var archive = new Option<string?>("--archive") { Description = "siem: a NEW archive folder for the replayed range (the live archive cannot take a range twice)." };
        var output = new Option<string?>("--output") { Description = "files: the folder for <backfill group>.jsonl." };
        var progress = new Option<string>("--progress-interval") { Description = "How often progress is printed.", DefaultValueFactory = _ => "2s" };
        var verbose = new Option<bool>("--verbose") { Description = "Show the worker's own log lines." };
        var command = new Command("replay", "Replay a range of the stream into a sink under its own backfill group, then stop. Exit 0 done, 1 the worker failed or stopped early, 2 bad input, 3 refused.")
        {
            kafka, postgres, topics, into, from, to, rate, group, backfill, archive, output, progress, verbose,
        };
        CommonOptions.SetAction(command, async (parse, io, cancellationToken) =>
        {
            var (worker, liveGroup) = ParseInto(parse.GetValue(into)!, parse.GetValue(group));
            var now = DateTimeOffset.UtcNow;
            var start = PositionSpec.Parse(parse.GetValue(from)!, "--from", now);
            var end = PositionSpec.Parse(parse.GetValue(to)!, "--to", now);
            if (start.Kind == PositionKind.Latest) throw new UsageException("--from latest replays nothing: give a time, an offset or earliest");
            if (end.Kind == PositionKind.Earliest) throw new UsageException("--to earliest replays nothing: give a time, an offset, now or latest");
            if (start.Kind == PositionKind.Time && end.Kind == PositionKind.Time && end.Time <= start.Time)
                throw new UsageException($"--to {end} is not after --from {start}");
            if (parse.GetValue(rate) is { } r && (r <= 0 || double.IsNaN(r) || double.IsInfinity(r))) throw new UsageException("--rate must be a positive number of events per second");
            var topicList = CommonOptions.SplitList(parse.GetValue(topics));
            if (topicList.Count == 0) throw new UsageException("--topics names no topic");
            var backfillGroup = parse.GetValue(backfill) ?? $"{liveGroup}.backfill-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
            var storeLocation = worker.Name switch
            {
                "noc" or "topk" => CommonOptions.RequirePostgres(parse.GetValue(postgres), $"replay --into {worker.Name}"),
                "siem" => parse.GetValue(archive) ?? throw new UsageException("replay --into siem needs --archive NEW_DIR: a folder of its own for the replayed range"),
                "files" => parse.GetValue(output) ?? throw new UsageException("replay --into files needs --output DIR"),
                _ => throw new UsageException($"unknown sink {worker.Name}"),
            };
            var request = new ReplayRequest(worker, liveGroup, backfillGroup, start, end, topicList, parse.GetValue(rate), storeLocation,
                Durations.Parse(parse.GetValue(progress)!, "--progress-interval"), parse.GetValue(verbose));
            var connection = KafkaConnection.Resolve(parse.GetValue(kafka));
            return await new ReplayRun(connection, seams, io).RunAsync(request, cancellationToken);
        });
        return command;
    }

    private static (Worker Worker, string Group) ParseInto(string into, string? group)
    {
        var colon = into.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? into : into[..colon];
        var worker = WorkerCatalog.Find(name.Trim())
            ?? throw new UsageException($"--into '{into}': the sink is one of {string.Join(", ", WorkerCatalog.All.Select(w => w.Name))}");
        var named = colon < 0 ? null : into[(colon + 1)..].Trim();
        if (named is { Length: > 0 } && group is { Length: > 0 } && named != group) throw new UsageException($"--into names group {named} but --group says {group}");
        return (worker, named is { Length: > 0 } ? named : group is { Length: > 0 } ? group : worker.Group);
    }
}
