using System.Text.RegularExpressions;
using Confluent.Kafka;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Kafka.Embedded;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Topics;

namespace Pipeline.IntegrationTests.Ops;

public sealed partial class TopicsApplyTests
{
    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task TheComposeInitCommandCreatesEveryTopicOfTheFileAndASecondRunFindsThemInSync()
    {
        // docker-compose.yml's kafka-init service runs exactly this command; /app/topics.json is the image's copy of infra/kafka/topics.json.
        var compose = await File.ReadAllTextAsync(Repository.Path_("docker-compose.yml"));
        var command = ComposeInitCommand().Match(compose);
        Assert.True(command.Success, "kafka-init's command was not found in docker-compose.yml");
        var args = QuotedWord().Matches(command.Groups[1].Value).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["topics", "apply", "--file", "/app/topics.json", "--replication-factor", "1"], args);

        using var kafka = TestKafka.Start(1);
        var seams = new OpsSeams { TopicCreator = _ => new EmbeddedTopicCreator(kafka) };
        string[] local = [.. args.Select(a => a == "/app/topics.json" ? Repository.Path_("infra", "kafka", "topics.json") : a), "--kafka", kafka.BootstrapServers];

        var first = await OpsTool.RunAsync(seams, local);
        Assert.True(first.ExitCode == 0, first.ToString());
        var file = TopicsFile.Load(Repository.Path_("infra", "kafka", "topics.json"));
        var metadata = Metadata(kafka.BootstrapServers);
        foreach (var topic in file.Topics)
        {
            var found = metadata.Topics.Single(t => t.Topic == topic.Name);
            Assert.Equal(topic.Partitions, found.Partitions.Count);
            Assert.All(found.Partitions, p => Assert.Single(p.Replicas));
            Assert.Contains(first.Lines, l => l.StartsWith("created", StringComparison.Ordinal) && l.Contains($" {topic.Name} ", StringComparison.Ordinal));
        }
        Assert.Contains($"{file.Topics.Count} created, 0 in sync, 0 with drift", first.Out, StringComparison.Ordinal);

        // The compose walkthrough's later check is the same command as a dry run that fails on drift.
        var check = Walkthrough.Block("compose").Split('\n').Single(l => l.StartsWith("docker compose run --rm kafka-init topics apply", StringComparison.Ordinal));
        Assert.Equal(string.Join(' ', args) + " --dry-run --fail-on-drift", check["docker compose run --rm kafka-init ".Length..]);
        var second = await OpsTool.RunAsync(seams, [.. local, "--dry-run", "--fail-on-drift"]);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"0 missing, {file.Topics.Count} in sync, 0 with drift", second.Out, StringComparison.Ordinal);
        // The embedded cluster keeps no topic configs, and says so rather than claiming they match.
        Assert.Contains("retention.ms and cleanup.policy not compared", second.Out, StringComparison.Ordinal);
    }

    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task DriftIsReportedWithItsFixAndFailsTheRunOnlyWithFailOnDrift()
    {
        using var kafka = TestKafka.Start(1);
        kafka.CreateTopic("syslog", 3, 1);
        var seams = new OpsSeams { TopicCreator = _ => new EmbeddedTopicCreator(kafka) };
        var file = Repository.Path_("infra", "kafka", "topics.json");

        var dryRun = await OpsTool.RunAsync(seams, "topics", "apply", "--file", file, "--replication-factor", "1", "--dry-run", "--kafka", kafka.BootstrapServers);
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains(dryRun.Lines, l => l.StartsWith("missing", StringComparison.Ordinal) && l.Contains(" events ", StringComparison.Ordinal));
        Assert.DoesNotContain(Metadata(kafka.BootstrapServers).Topics, t => t.Topic == "events");
        var dryRunCheck = await OpsTool.RunAsync(seams, "topics", "apply", "--file", file, "--replication-factor", "1", "--dry-run", "--fail-on-drift", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Attention, dryRunCheck.ExitCode);

        var apply = await OpsTool.RunAsync(seams, "topics", "apply", "--file", file, "--replication-factor", "1", "--kafka", kafka.BootstrapServers);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Contains(apply.Lines, l => l.StartsWith("drift", StringComparison.Ordinal) && l.Contains("syslog", StringComparison.Ordinal)
            && l.Contains("has 3 partitions, the file says 6", StringComparison.Ordinal) && l.Contains("--partitions 6", StringComparison.Ordinal));
        Assert.Equal(3, Metadata(kafka.BootstrapServers).Topics.Single(t => t.Topic == "syslog").Partitions.Count);

        var check = await OpsTool.RunAsync(seams, "topics", "apply", "--file", file, "--replication-factor", "1", "--fail-on-drift", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Attention, check.ExitCode);
        Assert.Contains("1 with drift", check.Out, StringComparison.Ordinal);
    }

    [EmbeddedKafkaFact("runs the operator commands against an embedded cluster of its own, with the pipeline's own topic and group names")]
    public async Task BadInputAndABrokerThatCannotCreateTopicsEndWithOneClearLineAndExitCode2()
    {
        using var kafka = TestKafka.Start(1);
        var file = Repository.Path_("infra", "kafka", "topics.json");

        // Without the embedded creator the admin API is used, which the embedded cluster lacks.
        var admin = await OpsTool.RunAsync("topics", "apply", "--file", file, "--replication-factor", "1", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Usage, admin.ExitCode);
        Assert.Contains("could not create", admin.Error, StringComparison.Ordinal);

        var missing = await OpsTool.RunAsync("topics", "apply", "--file", "/nonexistent/topics.json", "--kafka", kafka.BootstrapServers);
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);

        var unknownOption = await OpsTool.RunAsync("topics", "apply", "--replicas", "1");
        Assert.Equal(ExitCodes.Usage, unknownOption.ExitCode);
    }

    private static Metadata Metadata(string bootstrap)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        return admin.GetMetadata(TimeSpan.FromSeconds(10));
    }

    [GeneratedRegex(@"kafka-init:.*?command:\s*\[(.*?)\]", RegexOptions.Singleline)]
    private static partial Regex ComposeInitCommand();

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex QuotedWord();
}
