using System.CommandLine;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Topics;

/// <summary><c>topics apply</c>: create the topics of topics.json that are missing and report drift.</summary>
internal static class TopicsCommand
{
    public static Command Build(OpsSeams seams)
    {
        var kafka = CommonOptions.Kafka();
        var file = new Option<string>("--file") { Description = "The topics file.", DefaultValueFactory = _ => RepositoryLayout.TopicsFile };
        var replication = new Option<short?>("--replication-factor") { Description = "Replication factor for every topic, instead of the file's (e.g. 1 on a one-broker cluster)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only compare: create nothing." };
        var failOnDrift = new Option<bool>("--fail-on-drift") { Description = "Exit 1 when any topic differs from the file (with --dry-run: or is missing)." };
        var apply = new Command("apply", "Create the topics of the file that are missing, with their partitions, replication factor, retention.ms and " +
            "cleanup.policy; report every difference of existing ones as drift (never changed). Exit 0, or 1 with --fail-on-drift when there is drift.")
        {
            kafka, file, replication, dryRun, failOnDrift,
        };
        CommonOptions.SetAction(apply, (parse, io, _) =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new UsageException($"--file {path} does not exist");
            if (parse.GetValue(replication) is < 1) throw new UsageException("--replication-factor must be at least 1");
            var topics = TopicsFile.Load(path);
            var connection = KafkaConnection.Resolve(parse.GetValue(kafka));
            var creator = seams.TopicCreator?.Invoke(connection) ?? new AdminTopicCreator(connection);
            var settings = new ApplySettings(parse.GetValue(replication), DryRun: parse.GetValue(dryRun));
            io.Out.WriteLine($"{topics.Topics.Count} topics in {path}; Kafka at {connection.BootstrapServers}");
            var result = TopicsApplier.Apply(topics, settings, connection, creator);
            foreach (var line in result.Lines) io.Out.WriteLine(line);
            var attention = result.HasDrift || (settings.DryRun && result.Created.Count > 0);
            return Task.FromResult(parse.GetValue(failOnDrift) && attention ? ExitCodes.Attention : ExitCodes.Ok);
        });
        return new Command("topics", "Topics as code (infra/kafka/topics.json).") { apply };
    }
}
