using System.Text;
using System.Text.Json;
using Pipeline.Edge.Routing;

namespace Pipeline.UnitTests.Edge;

public sealed class RouterTests
{
    private static RoutingFacts Syslog(int facility, int severity, string app = "app") => new()
    {
        Facility = facility, Severity = severity, App = Encoding.UTF8.GetBytes(app), Kind = "log", Listener = "syslog-udp",
    };

    [Fact]
    public void TheFirstMatchingRuleChoosesTheTopicAndUnmatchedSyslogGoesToTheDefault()
    {
        var router = new Router(
        [
            new RouteRule { Name = "local7", Match = new RouteMatch { Facility = ["local7"] }, Topic = "syslog_stream" },
            new RouteRule { Name = "local6", Match = new RouteMatch { Facility = ["22"] }, Topic = "other" },
            new RouteRule { Name = "all-local7-again", Match = new RouteMatch { Facility = ["local7"] }, Topic = "never" },
        ]);
        Assert.Equal("syslog_stream", router.Choose(Syslog(23, 6)).Topic);
        Assert.Equal("other", router.Choose(Syslog(22, 6)).Topic);
        Assert.Equal("syslog", router.Choose(Syslog(1, 6)).Topic);
    }

    [Fact]
    public void AllConditionsOfARuleMustHoldAndAppNamesIgnoreCase()
    {
        var router = new Router([new RouteRule { Name = "ssh-errors", Match = new RouteMatch { App = ["SSHD"], Severity = ["err", "crit"] }, Topic = "security" }]);
        Assert.Equal("security", router.Choose(Syslog(4, 3, "sshd")).Topic);
        Assert.Equal("syslog", router.Choose(Syslog(4, 6, "sshd")).Topic);
        Assert.Equal("syslog", router.Choose(Syslog(4, 3, "cron")).Topic);
    }

    [Fact]
    public void MetricsAndJsonEventsHaveTheirOwnDefaultsAndPayloadFieldsCanRoute()
    {
        var router = new Router([new RouteRule { Name = "billing", Match = new RouteMatch { Field = "service.name", Values = ["billing"] }, Topic = "billing" }]);
        using var billing = JsonDocument.Parse("""{"service":{"name":"billing"}}""");
        using var other = JsonDocument.Parse("""{"service":{"name":"web"}}""");
        Assert.Equal("billing", router.Choose(new RoutingFacts { Kind = "event", Listener = "http", Payload = billing.RootElement, HasPayload = true }).Topic);
        Assert.Equal("events", router.Choose(new RoutingFacts { Kind = "event", Listener = "http", Payload = other.RootElement, HasPayload = true }).Topic);
        Assert.Equal("metrics", router.Choose(new RoutingFacts { Kind = "metric", Listener = "http", Payload = other.RootElement, HasPayload = true }).Topic);
    }

    [Fact]
    public void ARouteSampledOneInFourKeepsExactlyAQuarterAndNeverSampleKeepsAll()
    {
        var router = new Router(
        [
            new RouteRule { Name = "debug", Match = new RouteMatch { Severity = ["debug"] }, Topic = "debug", SampleRate = 4 },
            new RouteRule { Name = "auth", Match = new RouteMatch { Facility = ["auth"] }, Topic = "security", SampleRate = 4, NeverSample = true },
        ]);
        var debug = router.Choose(Syslog(1, 7));
        Assert.Equal(250, Enumerable.Range(0, 1000).Count(_ => debug.Keep()));
        Assert.Equal(4, debug.SampleRate);
        var auth = router.Choose(Syslog(4, 6));
        Assert.Equal(1000, Enumerable.Range(0, 1000).Count(_ => auth.Keep()));
        Assert.Equal(1, auth.SampleRate);
    }

    [Theory]
    [InlineData("local9")]
    [InlineData("24")]
    public void AnUnknownFacilityIsRefusedAtStartUp(string facility)
    {
        var error = Assert.Throws<ArgumentException>(() => new Router([new RouteRule { Name = "x", Topic = "t", Match = new RouteMatch { Facility = [facility] } }]));
        Assert.Contains(facility, error.Message);
    }
}
