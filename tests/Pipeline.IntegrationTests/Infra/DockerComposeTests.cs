using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Infra;

public sealed partial class DockerComposeTests
{
    [Fact]
    public async Task DockerComposeAcceptsTheComposeFile()
    {
        var compose = Repository.Path_("docker-compose.yml");
        // docker-compose (Debian's v1) validates the file without an engine; -q prints nothing when it is valid.
        var output = await Peers.RunAsync("docker-compose", ["-f", compose, "config", "-q"]);
        Assert.Equal("", output.Trim());
    }

    [Fact]
    public void EveryImageTheComposeFileBuildsIsAProjectOfTheRepository()
    {
        var projects = ProjectArgument().Matches(File.ReadAllText(Repository.Path_("docker-compose.yml"))).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("producer/Pipeline.Edge", projects);
        Assert.Contains("consumers/Pipeline.Consumers.Postgres", projects);
        Assert.All(projects, p => Assert.True(File.Exists(Repository.Path_(p, Path.GetFileName(p) + ".csproj")), p));
    }

    [Fact]
    public void EveryWorkerServiceHasAStableIdentityOfItsOwnInItsGroup()
    {
        var text = File.ReadAllText(Repository.Path_("docker-compose.yml"));
        var ids = InstanceId().Matches(text).Select(m => m.Groups[1].Value).ToList();
        // A container's host name changes when it is re-created, so the derived default would not be stable there.
        Assert.Equal(ConsumerGroup().Count(text), ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, Pipeline.Kafka.Consuming.GroupMembership.CheckInstanceId);
    }

    [GeneratedRegex(@"Consumer__InstanceId:\s*(\S+)")]
    private static partial Regex InstanceId();

    [GeneratedRegex(@"Consumer__Group:\s*(\S+)")]
    private static partial Regex ConsumerGroup();

    [GeneratedRegex(@"PROJECT:\s*([\w./-]+)")]
    private static partial Regex ProjectArgument();
}
