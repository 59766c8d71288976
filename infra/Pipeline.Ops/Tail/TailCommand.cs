using System.CommandLine;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Tail;

/// <summary>
/// <c>tail</c>: follow topics as readable lines, filtered by host, app, severity and text — a live view of
/// one application. It reads as a throw-away group (a random id) that never commits, so it leaves no
/// position behind and takes nothing from any team's group.
/// </summary>
internal static class TailCommand
{
    public static Command Build(OpsSeams seams)
    {
        _ = seams;
        var kafka = CommonOptions.Kafka();
        var topics = new Option<string>("--topics") { Description = "Topics, comma-separated.", DefaultValueFactory = _ => "syslog" };
        var host = new Option<string?>("--host") { Description = "Hosts, comma-separated; * is a wildcard (web-*)." };
        var app = new Option<string?>("--app") { Description = "Apps (syslog APP-NAME), comma-separated; * is a wildcard." };
        var severity = new Option<string?>("--severity") { Description = "err = err or worse; =err = exactly err; comma-separated values add up; names or 0-7." };
        var text = new Option<string?>("--text") { Description = "Only messages containing this text (case-insensitive)." };
        var regex = new Option<string?>("--regex") { Description = "Only messages matching this regular expression." };
        var from = new Option<string>("--from") { Description = "latest (what arrives from now on) or earliest (everything the topic still holds).", DefaultValueFactory = _ => "latest" };
        var max = new Option<int?>("--max") { Description = "Stop after this many matching lines." };
        var toEnd = new Option<bool>("--to-end") { Description = "Stop at the end of what the topics hold now, instead of following." };
        var command = new Command("tail", "Follow topics as readable lines (time host app[pid] severity: message), filtered; Ctrl-C stops.")
        {
            kafka, topics, host, app, severity, text, regex, from, max, toEnd,
        };
        CommonOptions.SetAction(command, (parse, io, cancellationToken) =>
        {
            var filter = TailFilter.Create(parse.GetValue(host), parse.GetValue(app), parse.GetValue(severity), parse.GetValue(text), parse.GetValue(regex));
            var reset = parse.GetValue(from)!.Trim().ToLowerInvariant() switch
            {
                "latest" => AutoOffsetReset.Latest,
                "earliest" => AutoOffsetReset.Earliest,
                var other => throw new UsageException($"--from must be latest or earliest, not '{other}'"),
            };
            if (parse.GetValue(max) is < 1) throw new UsageException("--max must be at least 1");
            var connection = KafkaConnection.Resolve(parse.GetValue(kafka));
            var topicList = CommonOptions.SplitList(parse.GetValue(topics));
            if (topicList.Count == 0) throw new UsageException("--topics names no topic");
            return Task.FromResult(Follow(connection, topicList, filter, reset, parse.GetValue(max), parse.GetValue(toEnd), io, cancellationToken));
        });
        return command;
    }

    private static int Follow(KafkaConnection kafka, IReadOnlyList<string> topics, TailFilter filter, AutoOffsetReset from, int? max, bool toEnd,
        CommandIO io, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });

        using var cluster = new ClusterView(kafka);
        var partitions = cluster.Partitions(topics);
        // The end of what is there now; with --from latest there is nothing before it to read.
        var remaining = new Dictionary<TopicPartition, long>();
        if (toEnd && from == AutoOffsetReset.Earliest)
            foreach (var (tp, (low, high)) in cluster.Watermarks(partitions))
                if (high > low) remaining[tp] = high;

        // A throw-away group: a random id, never committed, so it leaves nothing behind.
        using var consumer = kafka.Consumer("tail-" + Guid.NewGuid().ToString("N")[..12], c =>
        {
            c.AutoOffsetReset = from;
            c.SessionTimeoutMs = 10_000;
        });
        consumer.Subscribe(topics);
        long scanned = 0, shown = 0;
        try
        {
            while (!stop.IsCancellationRequested && (max is null || shown < max) && !(toEnd && remaining.Count == 0))
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result?.Message is null) continue;
                if (remaining.TryGetValue(result.TopicPartition, out var end) && result.Offset.Value + 1 >= end) remaining.Remove(result.TopicPartition);
                scanned++;
                var line = TailLine.From(result.Message.Value ?? [], new DateTimeOffset(result.Message.Timestamp.UtcDateTime, TimeSpan.Zero));
                if (!filter.Matches(line)) continue;
                io.Out.WriteLine(line.ToString());
                shown++;
            }
        }
        catch (ConsumeException ex)
        {
            throw new UsageException($"reading {string.Join(",", topics)}: {ex.Error.Reason}", ex);
        }
        finally
        {
            consumer.Close();
        }
        io.Out.Flush();
        io.Error.WriteLine($"tail: {shown} of {scanned} records shown");
        return ExitCodes.Ok;
    }
}
