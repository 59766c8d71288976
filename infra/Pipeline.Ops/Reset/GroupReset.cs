using System.Globalization;
using Confluent.Kafka;
using Dapper;
using Npgsql;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Positions;
using Pipeline.Ops.Workers;
using Pipeline.Postgres;

namespace Pipeline.Ops.Reset;

/// <summary>What to move, and where the group keeps its position.</summary>
internal sealed record ResetRequest(string Group, PositionSpec To, IReadOnlyList<TopicPartition> Partitions, StoreKind Store,
    string? Postgres, string? Archive, bool Force, bool DryRun);

/// <summary>
/// Moves a group's position where the group keeps it:
/// <list type="bullet">
/// <item><b>kafka</b> — its committed offsets (at-least-once sinks such as files);</item>
/// <item><b>postgres</b> — its <c>consumer_offsets</c> rows (the NOC sink, the top-k aggregator), which the
///   sink reads on assignment and prefers to Kafka's; the same offsets are committed to Kafka too, so Kafka's
///   tools agree. The NOC sink takes any move: a range read again is skipped row by row (rows are unique by
///   event id). The top-k aggregator does not: its counts would take the range twice, so it may only move
///   forward — a range is counted again under a new group (<c>replay --into topk</c>), whose windows are its own;</item>
/// <item><b>archive</b> — the SIEM checkpoint's offsets, forward only (see <see cref="ArchivePositions.BackwardsReason"/>),
///   under the archive's lock, which the running sink holds.</item>
/// </list>
/// Live members are checked first (DescribeConsumerGroups), then the command joins the group to write
/// Kafka's offsets (<see cref="GroupLease"/>), which refuses if any other member holds a partition.
/// </summary>
internal sealed class GroupReset(KafkaConnection kafka, ClusterView cluster, OpsSeams seams, CommandIO io)
{
    public int Run(ResetRequest request)
    {
        var marks = cluster.Watermarks(request.Partitions);
        var notes = new List<string>();
        var resolver = new TargetResolver(marks, () => seams.TimeIndex?.Invoke(kafka) ?? new KafkaTimeIndex(kafka));
        var targets = resolver.Resolve(request.To, request.Partitions, notes);
        var store = Open(request);
        var current = store.Read(request.Group, request.Partitions);
        RefuseKafkaStoreForSinkGroup(request);

        io.Out.WriteLine($"group {request.Group}: positions in {store.Describe}; to {request.To}" + (resolver.TimeMethod is { } method ? $" (offsets found by {method})" : ""));
        Print(request.Partitions, current, targets, marks);
        foreach (var note in notes) io.Out.WriteLine($"note: {note}");
        RefuseWhatTheStoreCannotTake(request.Store, request.Group, targets, current, request.Postgres);
        if (request.DryRun)
        {
            io.Out.WriteLine("dry run: nothing changed");
            return ExitCodes.Ok;
        }
        RefuseLiveMembers(request);
        Write(request.Store, request.Group, request.Partitions, targets, current, request.Postgres, request.Archive);
        io.Out.WriteLine($"done: {targets.Count} partition(s) of group {request.Group} moved; the group reads from there when it next starts");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Writes <paramref name="targets"/> into the store (checking what that store can take) and Kafka's
    /// committed offsets, as the group's only member. Also used by <c>replay</c> to set a backfill group's start.
    /// </summary>
    public void Write(StoreKind kind, string group, IReadOnlyList<TopicPartition> partitions, IReadOnlyDictionary<TopicPartition, long> targets,
        IReadOnlyDictionary<TopicPartition, long> current, string? postgres, string? archive)
    {
        RefuseWhatTheStoreCannotTake(kind, group, targets, current, postgres);
        using var lease = GroupLease.Take(kafka, group, partitions);
        switch (kind)
        {
            case StoreKind.Postgres:
                var database = new PostgresPositions(Require(postgres));
                database.Run(async connection =>
                {
                    // A new database (a backfill target) has no schema yet; the sink applies the same migration.
                    await using (var dataSource = NpgsqlDataSource.Create(database.ConnectionString))
                        await Migrator.ApplyCoreAsync(dataSource, CancellationToken.None);
                    return await SinkOffsetStore.ResetAsync(connection, group, targets.Select(t => (t.Key.Topic, t.Key.Partition.Value, (long?)t.Value)), CancellationToken.None);
                });
                break;
            case StoreKind.Archive:
                new ArchivePositions(archive ?? throw new UsageException("--store archive needs --archive DIR")).MoveForward(targets);
                break;
        }
        lease.Commit(targets.Select(t => new TopicPartitionOffset(t.Key, new Offset(t.Value))));
    }

    /// <summary>The top-k aggregator and the SIEM archive can only move forward (see the class summary).</summary>
    private static void RefuseWhatTheStoreCannotTake(StoreKind kind, string group, IReadOnlyDictionary<TopicPartition, long> targets,
        IReadOnlyDictionary<TopicPartition, long> current, string? postgres)
    {
        if (kind == StoreKind.Postgres) RefuseTopKGoingBack(Require(postgres), group, targets, current);
        if (kind != StoreKind.Archive) return;
        foreach (var (tp, target) in targets)
            if (current.TryGetValue(tp, out var at) && target < at) throw new RefusedException(ArchivePositions.BackwardsReason(tp, at, target));
    }

    /// <summary>Whether <c>consumer_offsets</c> holds positions of the group (then they, not Kafka's, decide where it starts).</summary>
    public static bool HasSinkPositions(string postgres, string group) =>
        new PostgresPositions(postgres).Run(async connection =>
            await PostgresPositions.TableExistsAsync(connection, "consumer_offsets")
            && await connection.ExecuteScalarAsync<bool>("select exists (select 1 from consumer_offsets where group_id = @group)", new { group }));

    private IPositionStore Open(ResetRequest request) => request.Store switch
    {
        StoreKind.Postgres => new PostgresPositions(Require(request.Postgres)),
        StoreKind.Archive => new ArchivePositions(request.Archive ?? throw new UsageException("--store archive needs --archive DIR (the SIEM archive folder)")),
        _ => new KafkaPositions(cluster),
    };

    /// <summary>Moving only Kafka's offsets of a group whose sink stores its own would change nothing: the sink starts from its store.</summary>
    private static void RefuseKafkaStoreForSinkGroup(ResetRequest request)
    {
        if (request.Store != StoreKind.Kafka) return;
        if (WorkerCatalog.ByGroup(request.Group) is { Store: not StoreKind.Kafka } worker)
            throw new RefusedException($"group {request.Group} ({worker.Name}) keeps its position in its own store, not in Kafka: use --store {worker.Store.ToString().ToLowerInvariant()}");
        if (!string.IsNullOrWhiteSpace(request.Postgres) && HasSinkPositions(request.Postgres, request.Group))
            throw new RefusedException($"group {request.Group} has positions in consumer_offsets ({PostgresPositions.Safe(request.Postgres)}), which its sink prefers to Kafka's: use --store postgres");
    }

    private void RefuseLiveMembers(ResetRequest request)
    {
        if (request.Force) return;
        var membership = (seams.GroupInspector?.Invoke(kafka) ?? new KafkaGroupInspector(kafka)).Inspect(request.Group);
        if (membership.Liveness == GroupLiveness.Live)
            throw new RefusedException($"group {request.Group} has {membership.Detail}; stop them first (or --force if Kafka lists a member that is gone)");
        if (membership.Liveness == GroupLiveness.Unknown)
            io.Error.WriteLine($"note: Kafka could not describe group {request.Group} ({membership.Detail}); joining it to make sure no member is live");
    }

    /// <summary>The top-k aggregator counts every record it reads: read twice, a range would be counted twice.</summary>
    private static void RefuseTopKGoingBack(string postgres, string group, IReadOnlyDictionary<TopicPartition, long> targets, IReadOnlyDictionary<TopicPartition, long> current)
    {
        var back = targets.Where(t => current.TryGetValue(t.Key, out var at) && t.Value < at).Select(t => t.Key).ToList();
        if (back.Count == 0) return;
        var counted = new PostgresPositions(postgres).Run(async connection =>
            await PostgresPositions.TableExistsAsync(connection, "topk_partitions")
            && await connection.ExecuteScalarAsync<bool>("select exists (select 1 from topk_partitions where group_id = @group)", new { group }));
        if (counted)
            throw new RefusedException($"group {group} is a top-k aggregator: its windows have counted up to the current positions, and moving back " +
                $"({back.Count} partition(s)) would count those events twice. Count a range again under a new group instead (replay --into topk), whose windows are its own.");
    }

    private static string Require(string? postgres) =>
        !string.IsNullOrWhiteSpace(postgres) ? postgres : throw new UsageException("--store postgres needs --postgres or PIPELINE_POSTGRES");

    private void Print(IReadOnlyList<TopicPartition> partitions, IReadOnlyDictionary<TopicPartition, long> current,
        IReadOnlyDictionary<TopicPartition, long> targets, IReadOnlyDictionary<TopicPartition, (long Low, long High)> marks)
    {
        var width = Math.Max(5, partitions.Max(p => p.Topic.Length));
        io.Out.WriteLine($"{"TOPIC".PadRight(width)}  {"PARTITION",9}  {"FROM",12}  {"TO",12}  {"END",12}");
        foreach (var tp in partitions)
        {
            var from = current.TryGetValue(tp, out var c) ? c.ToString(CultureInfo.InvariantCulture) : "-";
            io.Out.WriteLine($"{tp.Topic.PadRight(width)}  {tp.Partition.Value,9}  {from,12}  {targets[tp],12}  {marks[tp].High,12}");
        }
    }
}
