namespace Pipeline.Ops.Status;

/// <summary>
/// Everything read in one round: every process, and Kafka's latest reading with the one before it (Kafka is
/// read on its own schedule, so its rates come from its own two readings).
/// </summary>
internal sealed record Readings(DateTimeOffset At, IReadOnlyList<ProcessReading> Processes, KafkaReading Kafka, KafkaReading? KafkaBefore = null);

/// <summary>
/// Turns two rounds of readings into a <see cref="StatusSnapshot"/>: totals from the newer round, rates from
/// the difference between the two (each source's own read times), states from health and positions. Pure,
/// so every rule here is tested without a running pipeline.
/// </summary>
internal static class SnapshotBuilder
{
    private static readonly (string, string)[] Everything = [];

    public static StatusSnapshot Build(Readings? before, Readings now, IReadOnlyList<string> groups, IReadOnlyDictionary<string, string> groupOfProcess,
        IReadOnlyDictionary<string, DateTimeOffset> lastSeen, string bootstrap, int tailsOpen)
    {
        var previous = before?.Processes.ToDictionary(p => p.Target.Name, StringComparer.Ordinal) ?? [];
        var processes = now.Processes.Select(p => new ProcessStatus(p.Target.Name, p.Target.Role, p.Target.Url.ToString(),
            groupOfProcess.GetValueOrDefault(p.Target.Name), p.Up, p.Healthy, p.Detail, lastSeen.TryGetValue(p.Target.Name, out var seen) ? seen : null)).ToList();
        var edge = now.Processes.FirstOrDefault(p => p.Target.Role == ProcessTarget.EdgeRole) is { } edgeNow
            ? Edge(previous.GetValueOrDefault(edgeNow.Target.Name), edgeNow)
            : null;
        var kafka = new KafkaStatus(now.Kafka.Up, bootstrap, now.Kafka.Error, now.Kafka.Up ? now.Kafka.At : null);
        var groupStatuses = groups.Select(g => Group(g, now, previous, groupOfProcess)).ToList();
        return new StatusSnapshot(now.At, before is null ? 0 : (now.At - before.At).TotalSeconds, kafka, processes, edge, Topics(now.KafkaBefore, now.Kafka), groupStatuses, tailsOpen);
    }

    private static EdgeStatus Edge(ProcessReading? before, ProcessReading now)
    {
        if (now.Metrics is not { } m) return new EdgeStatus(false, [], null, null, null, 0, 0, 0, 0, [], 0, 0, null, null);
        var then = before?.Metrics;
        var seconds = before is null ? 0 : (now.At - before.At).TotalSeconds;
        double? Rate(string name, params (string, string)[] match) =>
            then is null || seconds <= 0 ? null : PerSecond(then.Sum(name, match), m.Sum(name, match), seconds);

        var listeners = m.LabelValues("edge_events_received_total", "listener").Order(StringComparer.Ordinal).Select(l => new ListenerStatus(l,
            m.Sum("edge_events_received_total", ("listener", l)) ?? 0,
            Rate("edge_events_received_total", ("listener", l)),
            Rate("edge_events_published_total", ("listener", l)),
            Rate("edge_events_dropped_total", ("listener", l)))).ToList();
        var drops = m.LabelValues("edge_events_dropped_total", "reason").Order(StringComparer.Ordinal)
            .Select(r => new DropStatus(r, m.Sum("edge_events_dropped_total", ("reason", r)) ?? 0, Rate("edge_events_dropped_total", ("reason", r)))).ToList();
        // The kernel's drops of UDP datagrams never reached the edge's ledger, but they are loss all the same.
        if (m.Has("edge_udp_socket_drops_total"))
            drops.Add(new DropStatus("udp_socket", m.Sum("edge_udp_socket_drops_total") ?? 0, Rate("edge_udp_socket_drops_total")));
        return new EdgeStatus(true, listeners,
            Rate("edge_events_received_total", Everything), Rate("edge_events_published_total", Everything), Rate("edge_events_dropped_total", Everything),
            m.Sum("edge_events_received_total") ?? 0, m.Sum("edge_events_published_total") ?? 0, m.Sum("edge_events_dropped_total") ?? 0,
            m.Sum("edge_events_parse_failed_total") ?? 0, drops,
            m.Sum("edge_events_pending", ("buffer", "memory")) ?? 0, m.Sum("edge_events_pending", ("buffer", "spool")) ?? 0,
            m.Sum("edge_spool_bytes"), m.Sum("edge_spool_max_bytes"));
    }

    private static List<TopicStatus> Topics(KafkaReading? before, KafkaReading now)
    {
        var then = before is { Up: true } ? before.Topics.ToDictionary(t => t.Name, StringComparer.Ordinal) : [];
        var seconds = before is null ? 0 : (now.At - before.At).TotalSeconds;
        return now.Topics.Select(t => new TopicStatus(t.Name, t.Partitions, t.Records, t.End,
            then.TryGetValue(t.Name, out var old) && seconds > 0 ? PerSecond(old.End, t.End, seconds) : null)).ToList();
    }

    private static GroupStatus Group(string group, Readings now, Dictionary<string, ProcessReading> previous, IReadOnlyDictionary<string, string> groupOfProcess)
    {
        (string, string)[] ofGroup = [("group", group)];
        (string, string)[] written = [("group", group), ("outcome", "written")];
        var members = now.Processes.Where(p => groupOfProcess.GetValueOrDefault(p.Target.Name) == group).ToList();
        var up = members.Where(p => p.Up).ToList();
        var failing = up.Where(p => !p.Healthy || p.Metrics!.Max("consumer_partitions_paused", ofGroup) > 0).ToList();
        var state = up.Count == 0 ? "down" : failing.Count > 0 ? "failing" : "up";

        double? writtenTotal = up.Count == 0 ? null : up.Sum(p => p.Metrics!.Sum("consumer_records_total", written) ?? 0);
        double? writtenRate = null;
        foreach (var member in up)
        {
            if (previous.GetValueOrDefault(member.Target.Name) is not { Metrics: { } then } old) continue;
            var seconds = (member.At - old.At).TotalSeconds;
            if (seconds > 0) writtenRate = (writtenRate ?? 0) + (PerSecond(then.Sum("consumer_records_total", written), member.Metrics!.Sum("consumer_records_total", written), seconds) ?? 0);
        }

        var kafka = now.Kafka.Groups.GetValueOrDefault(group);
        var lag = kafka?.Lag ?? (up.Count == 0 ? null : (long?)up.Sum(p => p.Metrics!.Sum("consumer_lag_messages", ofGroup) ?? 0));
        // A running member knows the age of what it holds; Kafka's record timestamps tell the age of the oldest record
        // not yet written, read or not, and go on telling it while the group is down. The older of the two is the lag.
        double? fromMembers = up.Count > 0 && up.Any(p => p.Metrics!.Has("consumer_lag_seconds")) ? up.Max(p => p.Metrics!.Max("consumer_lag_seconds", ofGroup) ?? 0) : null;
        double? fromKafka = kafka?.Lag == 0 ? 0 : kafka?.OldestUnread is { } oldest ? Math.Max(0, (now.Kafka.At - oldest).TotalSeconds) : null;
        double? lagSeconds = fromMembers is null ? fromKafka : fromKafka is null ? fromMembers : Math.Max(fromMembers.Value, fromKafka.Value);
        double? closing = null;
        if (now.KafkaBefore?.Groups.GetValueOrDefault(group) is { Lag: { } lagBefore } && kafka?.Lag is { } lagNow && now.Kafka.At > now.KafkaBefore.At)
            closing = (lagBefore - lagNow) / (now.Kafka.At - now.KafkaBefore.At).TotalSeconds;

        var (p50, p99) = Freshness(up, previous, ofGroup);
        long? deadLettered = now.Kafka.DeadLettered.TryGetValue(group, out var dlq) ? dlq
            : up.Count > 0 ? (long)up.Sum(p => p.Metrics!.Sum("consumer_records_total", ("group", group), ("outcome", "dead_lettered")) ?? 0)
            : null;
        var problem = state switch
        {
            "down" => members.Count == 0 ? "no process of this group is watched" : string.Join("; ", members.Select(m => $"{m.Target.Name}: {m.Detail ?? "not answering"}")),
            "failing" => string.Join("; ", failing.Select(m => $"{m.Target.Name}: {m.Detail ?? "partitions paused while the sink fails"}")),
            _ => kafka?.Error,
        };
        return new GroupStatus(group, state, members.Select(m => m.Target.Name).ToList(), lag, lagSeconds, closing, writtenRate, writtenTotal, p50, p99,
            deadLettered, kafka?.Source, problem);
    }

    /// <summary>
    /// Freshness (commit time minus the edge's receive time) over the interval, from a histogram whose name says
    /// freshness, merged over the group's members; null when the processes export none or nothing was written.
    /// </summary>
    private static (double?, double?) Freshness(List<ProcessReading> up, Dictionary<string, ProcessReading> previous, (string, string)[] ofGroup)
    {
        var quantiles = new List<(double? P50, double? P99)>();
        foreach (var member in up)
        {
            if (HistogramWindow.Find(member.Metrics!, "freshness", ofGroup) is not { } family) continue;
            var then = previous.GetValueOrDefault(member.Target.Name)?.Metrics;
            quantiles.Add((HistogramWindow.Quantile(then, member.Metrics!, family, 0.5, ofGroup), HistogramWindow.Quantile(then, member.Metrics!, family, 0.99, ofGroup)));
        }
        // Members are not merged bucket by bucket: the slowest member is what an operator must know about.
        return (quantiles.Max(q => q.P50), quantiles.Max(q => q.P99));
    }

    /// <summary>A counter's rate; a counter that went down restarted, so its new value is what it counted since.</summary>
    private static double? PerSecond(double? before, double? after, double seconds) =>
        after is not { } now ? null : before is not { } then ? null : Math.Max(0, now >= then ? now - then : now) / seconds;

    private static double? PerSecond(long before, long after, double seconds) => Math.Max(0, after - before) / seconds;
}
