using System.CommandLine;
using System.Globalization;
using Confluent.Kafka;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Positions;
using Pipeline.Ops.Workers;

namespace Pipeline.Ops.Lag;

/// <summary>
/// <c>lag</c>: per group and partition, the stored position, the end offset, the lag in records and in time
/// (how long the oldest unread record has waited, from its timestamp), and how fast the lag is closing (two
/// samples <c>--interval</c> apart); exit code 1 when any partition lags by more than <c>--threshold</c> records
/// or <c>--threshold-seconds</c>, so monitoring can run it as a check.
/// </summary>
internal static class LagCommand
{
    public static Command Build(OpsSeams seams)
    {
        var kafka = CommonOptions.Kafka();
        var postgres = CommonOptions.Postgres();
        var topics = CommonOptions.Topics();
        var groups = new Option<string[]>("--group") { Description = "Group to show (repeatable, or comma-separated). Default: each configured group (" + string.Join(", ", WorkerCatalog.All.Select(w => w.Group)) + ")." };
        var store = new Option<string>("--store") { Description = "Where positions are read: kafka (committed offsets, what every Kafka tool shows), postgres (consumer_offsets of exactly-once sinks), archive (the SIEM checkpoint). Default auto: an exactly-once group's own store when it can be read (noc_team, topk, or any group in consumer_offsets, with --postgres or PIPELINE_POSTGRES; sec_team with --archive or PIPELINE_SIEM_ARCHIVE), else Kafka. Each row's STORE column says which.", DefaultValueFactory = _ => "auto" };
        var archive = new Option<string?>("--archive") { Description = "SIEM archive folder (default: PIPELINE_SIEM_ARCHIVE, which .pipeline/local.env sets)." };
        var interval = new Option<string>("--interval") { Description = "Time between the two samples the closing rate is measured over; 0 takes one sample and shows no rate.", DefaultValueFactory = _ => "5s" };
        var threshold = new Option<long?>("--threshold") { Description = "Exit 1 when any partition's lag is above this many records." };
        var thresholdSeconds = new Option<double?>("--threshold-seconds") { Description = "Exit 1 when any partition's oldest unread record has waited longer than this many seconds." };
        var command = new Command("lag", "Show each group's position, end offset, lag in records and in time, and closing rate per partition. Exit 0, 1 when a partition lags more than --threshold or --threshold-seconds, 2 on bad input.")
        {
            kafka, postgres, topics, groups, store, archive, interval, threshold, thresholdSeconds,
        };
        CommonOptions.SetAction(command, async (parse, io, cancellationToken) =>
        {
            var wait = Durations.Parse(parse.GetValue(interval)!, "--interval");
            if (parse.GetValue(threshold) is < 0) throw new UsageException("--threshold must be 0 or more");
            if (parse.GetValue(thresholdSeconds) is { } seconds && (seconds < 0 || !double.IsFinite(seconds))) throw new UsageException("--threshold-seconds must be 0 or more");
            var names = (parse.GetValue(groups) ?? []).SelectMany(CommonOptions.SplitList).Distinct().ToList();
            if (names.Count == 0) names = WorkerCatalog.All.Select(w => w.Group).ToList();
            var topicList = CommonOptions.SplitList(parse.GetValue(topics));
            if (topicList.Count == 0) throw new UsageException("--topics names no topic");
            var connection = KafkaConnection.Resolve(parse.GetValue(kafka));
            using var cluster = new ClusterView(connection);
            var stores = new StoreChoice(parse.GetValue(store)!, parse.GetValue(postgres) ?? Environment.GetEnvironmentVariable("PIPELINE_POSTGRES"),
                CommonOptions.SiemArchive(parse.GetValue(archive)), cluster);
            var partitions = cluster.Partitions(topicList);
            var report = await MeasureAsync(names, partitions, stores.For, cluster, wait, TimeProvider.System,
                // On stderr, so the table on stdout stays the only thing there; says why nothing shows for a while.
                () => io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lag: first sample taken; the second in {wait.TotalSeconds:0.###} s")), cancellationToken);
            Print(io.Out, report);
            var attention = false;
            if (parse.GetValue(threshold) is { } max && report.Any(r => r.Rows.Any(p => p.Now.Lag > max)))
            {
                io.Error.WriteLine($"lag above {max} on {report.Sum(r => r.Rows.Count(p => p.Now.Lag > max))} partition(s)");
                attention = true;
            }
            if (parse.GetValue(thresholdSeconds) is { } limit)
            {
                // A lagging partition whose oldest record could not be read counts as over: a check must not pass blind.
                var over = report.Sum(r => r.Rows.Count(p => p.Now.Lag > 0 && (p.Age is not { } age || age.TotalSeconds > limit)));
                if (over > 0)
                {
                    io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lag above {limit:0.###} s on {over} partition(s)"));
                    attention = true;
                }
            }
            return attention ? ExitCodes.Attention : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One row: the partition now, its lag in time, and its lag's closing rate in records per second (null with one sample).</summary>
    internal sealed record Row(PartitionLag Now, TimeSpan? Age, double? ClosingPerSecond);

    /// <summary>A group's rows; <paramref name="Store"/> is where its positions were read, <paramref name="Source"/> says it in full.</summary>
    internal sealed record GroupReport(string Group, StoreKind Store, string Source, IReadOnlyList<Row> Rows, double? ClosingPerSecond)
    {
        public TimeSpan? MaxAge => Rows.Select(r => r.Age).Where(a => a is not null).Max();
    }

    internal static async Task<List<GroupReport>> MeasureAsync(IReadOnlyList<string> groups, IReadOnlyList<TopicPartition> partitions,
        Func<string, IPositionStore> positions, ClusterView cluster, TimeSpan interval, TimeProvider time, Action firstSampleTaken,
        CancellationToken cancellationToken)
    {
        var first = groups.Select(g => LagSample.Take(g, partitions, positions(g), cluster, time, ages: interval <= TimeSpan.Zero)).ToList();
        if (interval <= TimeSpan.Zero)
            return first.Select(s => new GroupReport(s.Group, positions(s.Group).Kind, positions(s.Group).Describe, s.Partitions.Select(p => new Row(p, p.Age(s.At), null)).ToList(), null)).ToList();
        firstSampleTaken();
        await Task.Delay(interval, cancellationToken);
        var reports = new List<GroupReport>();
        foreach (var before in first)
        {
            var after = LagSample.Take(before.Group, partitions, positions(before.Group), cluster, time, ages: true);
            var seconds = Math.Max(0.001, (after.At - before.At).TotalSeconds);
            var rows = after.Partitions.Zip(before.Partitions, (now, then) => new Row(now, now.Age(after.At), (then.Lag - now.Lag) / seconds)).ToList();
            reports.Add(new GroupReport(after.Group, positions(after.Group).Kind, positions(after.Group).Describe, rows, (before.Total - after.Total) / seconds));
        }
        return reports;
    }

    internal static void Print(TextWriter output, IReadOnlyList<GroupReport> reports)
    {
        var width = Math.Max(5, reports.Max(r => r.Group.Length));
        var topicWidth = Math.Max(5, reports.SelectMany(r => r.Rows).Select(r => r.Now.Partition.Topic.Length).DefaultIfEmpty(5).Max());
        foreach (var report in reports) output.WriteLine($"positions of {report.Group}: {report.Source}");
        output.WriteLine($"{"GROUP".PadRight(width)}  {"TOPIC".PadRight(topicWidth)}  {"PARTITION",9}  {"POSITION",12}  {"END",12}  {"LAG",10}  {"AGE",10}  {"CLOSING/S",10}  {"ETA",-6}  STORE");
        foreach (var report in reports)
        {
            var store = report.Store.Name();
            foreach (var row in report.Rows)
            {
                var p = row.Now;
                output.WriteLine($"{report.Group.PadRight(width)}  {p.Partition.Topic.PadRight(topicWidth)}  {p.Partition.Partition.Value,9}  {Number(p.Position),12}  {Number(p.End),12}  {Number(p.Lag),10}  {Age(p.Lag, row.Age),10}  {Rate(row.ClosingPerSecond),10}  {Eta(p.Lag, row.ClosingPerSecond),-6}  {store}");
            }
            var total = report.Rows.Sum(r => r.Now.Lag);
            output.WriteLine($"{report.Group.PadRight(width)}  {"total".PadRight(topicWidth)}  {"",9}  {"",12}  {Number(report.Rows.Sum(r => r.Now.End)),12}  {Number(total),10}  {Age(total, report.MaxAge),10}  {Rate(report.ClosingPerSecond),10}  {Eta(total, report.ClosingPerSecond),-6}  {store}");
        }
    }

    /// <summary>
    /// Which store each group's positions are read from. An exactly-once sink's own store is where it resumes,
    /// so it is preferred; its Kafka commits follow each write within about a second, so Kafka's view (what
    /// kafka-consumer-groups.sh and lag exporters show) trails it by at most that much.
    /// </summary>
    internal sealed class StoreChoice(string option, string? postgres, string? archive, ClusterView cluster)
    {
        private readonly Dictionary<string, IPositionStore> _chosen = [];

        public IPositionStore For(string group)
        {
            if (_chosen.TryGetValue(group, out var known)) return known;
            IPositionStore store = option.Equals("auto", StringComparison.OrdinalIgnoreCase) ? Auto(group) : StoreKinds.Parse(option) switch
            {
                StoreKind.Postgres => new PostgresPositions(CommonOptions.RequirePostgres(postgres, "--store postgres")),
                StoreKind.Archive => new ArchivePositions(archive ?? throw new UsageException("--store archive needs --archive DIR or PIPELINE_SIEM_ARCHIVE")),
                _ => new KafkaPositions(cluster),
            };
            return _chosen[group] = store;
        }

        private IPositionStore Auto(string group)
        {
            var worker = WorkerCatalog.ByGroup(group);
            if (worker?.Store == StoreKind.Archive)
            {
                if (archive is null) return new KafkaPositions(cluster, "its SIEM archive is not known: pass --archive DIR or set PIPELINE_SIEM_ARCHIVE");
                var checkpoint = new ArchivePositions(archive);
                return checkpoint.HasCheckpoint ? checkpoint : new KafkaPositions(cluster, $"nothing archived in {archive} yet");
            }
            if (!string.IsNullOrWhiteSpace(postgres) && (worker?.Store == StoreKind.Postgres || Reset.GroupReset.HasSinkPositions(postgres, group)))
                return new PostgresPositions(postgres);
            if (worker?.Store == StoreKind.Postgres) return new KafkaPositions(cluster, "its database is not known: pass --postgres or set PIPELINE_POSTGRES");
            return new KafkaPositions(cluster);
        }
    }

    private static string Number(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    /// <summary>Seconds the oldest unread record has waited; "-" when caught up, "?" when it could not be read.</summary>
    internal static string Age(long lag, TimeSpan? age) =>
        lag == 0 ? "-" : age is { } a ? a.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s" : "?";

    private static string Rate(double? value) => value?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-";

    /// <summary>Time to zero lag at the measured closing rate; "-" when caught up, "never" when not closing.</summary>
    internal static string Eta(long lag, double? closingPerSecond)
    {
        if (lag == 0) return "-";
        if (closingPerSecond is not { } rate) return "-";
        if (rate <= 0) return "never";
        var eta = TimeSpan.FromSeconds(Math.Min(lag / rate, TimeSpan.FromDays(365).TotalSeconds));
        return eta.TotalHours >= 1 ? $"{(int)eta.TotalHours}h{eta.Minutes:00}m" : eta.TotalMinutes >= 1 ? $"{eta.Minutes}m{eta.Seconds:00}s" : $"{Math.Max(1, (int)Math.Ceiling(eta.TotalSeconds))}s";
    }
}
