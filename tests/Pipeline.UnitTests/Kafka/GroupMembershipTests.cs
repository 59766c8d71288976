using System.Net;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Kafka;

public sealed class GroupMembershipTests : IDisposable
{
    private readonly string _claims = Directory.CreateTempSubdirectory("claims-").FullName;

    public void Dispose() => Directory.Delete(_claims, recursive: true);

    [Fact]
    public void AClassicMemberAsksForItsSessionAThirdOfItAsHeartbeatCooperativeRebalancingAndItsIdentity()
    {
        var config = new ConsumerOptions { Group = "g", SessionTimeout = TimeSpan.FromSeconds(9), InstanceId = "db01.pipeline-noc.9101" }
            .ToConfig(new KafkaOptions(), "test");
        Assert.Equal(9000, config.SessionTimeoutMs);
        Assert.Equal(3000, config.HeartbeatIntervalMs);
        Assert.Equal(PartitionAssignmentStrategy.CooperativeSticky, config.PartitionAssignmentStrategy);
        Assert.Equal("db01.pipeline-noc.9101", config.GroupInstanceId);
        Assert.Null(config.Get("group.protocol"));
    }

    [Fact]
    public void TheDefaultsDetectAMemberThatDoesNotComeBackWithinSixSecondsAndDrainWithinThem()
    {
        var options = new ConsumerOptions { Group = "g" };
        options.Validate();
        Assert.Equal(TimeSpan.FromSeconds(6), options.SessionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), GroupMembership.Heartbeat(options));
        Assert.True(options.DrainTimeout < options.SessionTimeout);
    }

    [Fact]
    public void AKip848MemberLeavesSessionHeartbeatAndAssignmentToTheBroker()
    {
        var config = new ConsumerOptions { Group = "g", GroupProtocol = "consumer", InstanceId = "a" }.ToConfig(new KafkaOptions(), "test");
        Assert.Equal("consumer", config.Get("group.protocol"));
        // librdkafka refuses these with the consumer protocol: they must not be set at all.
        Assert.Null(config.Get("session.timeout.ms"));
        Assert.Null(config.Get("heartbeat.interval.ms"));
        Assert.Null(config.Get("partition.assignment.strategy"));
        Assert.Equal("a", config.GroupInstanceId);
    }

    [Fact]
    public void AnAssignorOrProtocolPassedThroughIsHonoured()
    {
        var kafka = new KafkaOptions { Properties = { ["partition.assignment.strategy"] = "range" } };
        Assert.Equal(PartitionAssignmentStrategy.Range, new ConsumerOptions { Group = "g" }.ToConfig(kafka, "test").PartitionAssignmentStrategy);
        var kip848 = new KafkaOptions { Properties = { ["group.protocol"] = "consumer" } };
        Assert.Null(new ConsumerOptions { Group = "g" }.ToConfig(kip848, "test").Get("session.timeout.ms"));
    }

    [Fact]
    public void WithoutStaticMembershipNoIdentityIsSent()
    {
        var config = new ConsumerOptions { Group = "g", InstanceId = "a", StaticMembership = false }.ToConfig(new KafkaOptions(), "test");
        Assert.Null(config.GroupInstanceId);
    }

    [Theory]
    [InlineData(2, 6, true)]
    [InlineData(3, 9, true)]
    [InlineData(3, 6, false)]
    [InlineData(5, 10, false)]
    public void AHeartbeatOfMoreThanAThirdOfTheSessionIsRefused(int heartbeat, int session, bool valid)
    {
        var options = new ConsumerOptions
        {
            Group = "g", HeartbeatInterval = TimeSpan.FromSeconds(heartbeat), SessionTimeout = TimeSpan.FromSeconds(session), DrainTimeout = TimeSpan.FromSeconds(1),
        };
        if (valid) options.Validate();
        else Assert.Contains("at most a third of SessionTimeout", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("noc 1")]
    [InlineData("noc/1")]
    [InlineData("..")]
    [InlineData("nöc")]
    public void AnInstanceIdKafkaWouldRefuseIsRefusedAtStartUp(string id) =>
        Assert.Contains("--instance-id", Assert.Throws<ArgumentException>(new ConsumerOptions { Group = "g", InstanceId = id }.Validate).Message, StringComparison.Ordinal);

    [Fact]
    public void AnUnknownGroupProtocolIsRefused() =>
        Assert.Throws<ArgumentException>(new ConsumerOptions { Group = "g", GroupProtocol = "eager" }.Validate);

    [Fact]
    public void TheDerivedIdentityIsHostWorkerAndPortInWhatKafkaAccepts()
    {
        Assert.Equal("db01.example.org.pipeline-noc.9101", GroupMembership.Derive("DB01.example.org", "pipeline-noc", 9101));
        Assert.Equal("host-x.pipeline-noc.9101", GroupMembership.Derive("host x", "pipeline-noc", 9101));
        var longest = GroupMembership.Derive(new string('h', 300), "pipeline-noc", 9101);
        Assert.Equal(GroupMembership.MaxInstanceIdLength, longest.Length);
        Assert.EndsWith(".pipeline-noc.9101", longest, StringComparison.Ordinal);
    }

    [Fact]
    public void ASecondClaimOfOneIdentityInOneGroupOnThisHostIsRefusedUntilTheFirstIsReleased()
    {
        var first = GroupMembership.Claim("noc_team", "noc-1", _claims);
        var error = Assert.Throws<ArgumentException>(() => GroupMembership.Claim("noc_team", "noc-1", _claims));
        Assert.Contains("'noc-1' is already used in group 'noc_team'", error.Message, StringComparison.Ordinal);
        // The same identity in another group, and another identity in the group, are free.
        GroupMembership.Claim("sec_team", "noc-1", _claims).Dispose();
        GroupMembership.Claim("noc_team", "noc-2", _claims).Dispose();
        first.Dispose();
        GroupMembership.Claim("noc_team", "noc-1", _claims).Dispose();
    }

    [Fact]
    public async Task EveryWorkerGetsAnIdentityFromItsHttpPortOrTheCommandLineAndNoneOnARandomPort()
    {
        var group = "g-" + Guid.NewGuid().ToString("N")[..8];
        var port = FreePort();
        await using (var derived = Build(["--group", group, "--http", $"127.0.0.1:{port}"]))
            Assert.Equal(GroupMembership.Derive(Environment.MachineName, "pipeline-test", port), derived.Services.GetRequiredService<ConsumerOptions>().InstanceId);
        await using (var given = Build(["--group", group, "--http", "127.0.0.1:0", "--instance-id", "noc-7"]))
            Assert.Equal("noc-7", GroupMembership.InstanceId(given.Services.GetRequiredService<ConsumerOptions>()));
        await using (var random = Build(["--group", group, "--http", "127.0.0.1:0"]))
            Assert.Null(GroupMembership.InstanceId(random.Services.GetRequiredService<ConsumerOptions>()));
        // A host that is built claims its identity: a second one with the same is refused with a clear message.
        await using var holder = Build(["--group", group, "--http", "127.0.0.1:0", "--instance-id", "noc-8"]);
        Assert.Throws<ArgumentException>(() => Build(["--group", group, "--http", "127.0.0.1:0", "--instance-id", "noc-8"]));
    }

    private static Microsoft.AspNetCore.Builder.WebApplication Build(string[] args) =>
        ConsumerHost.Build(args, new ConsumerDefaults("noc_team", "127.0.0.1:9101") { Worker = "pipeline-test" },
            builder => builder.Services.AddSingleton<IBatchSink, ConsumerHostTests.NullSink>());

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
