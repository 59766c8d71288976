using System.Net;
using Microsoft.Extensions.Configuration;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class SourceTimeZoneTableTests
{
    private static SourceTimeZoneTable Table(string? defaultZone, params SyslogTimeZoneRule[] rules)
    {
        var options = new SyslogTimeZoneOptions();
        if (defaultZone is not null) options.DefaultTimeZone = defaultZone;
        foreach (var rule in rules) options.Rules.Add(rule);
        return new SourceTimeZoneTable(options);
    }

    private static string Resolve(SourceTimeZoneTable table, string? ip, string hostname = "") =>
        table.Resolve(ip is null ? null : IPAddress.Parse(ip), System.Text.Encoding.UTF8.GetBytes(hostname)).Id;

    [Fact]
    public void WithoutRulesEverySourceIsUtc()
    {
        var table = Table(null);

        Assert.Same(TimeZoneInfo.Utc, table.Resolve(IPAddress.Loopback, "host"u8));
        Assert.Same(TimeZoneInfo.Utc, table.Resolve(null, default));
    }

    [Fact]
    public void TheDefaultZoneIsConfigurable()
    {
        Assert.Equal("Asia/Tokyo", Resolve(Table("Asia/Tokyo"), "192.0.2.1"));
    }

    [Theory]
    [InlineData("10.1.0.0", "Europe/Berlin")]
    [InlineData("10.1.255.255", "Europe/Berlin")]
    [InlineData("10.2.0.1", "UTC")]
    [InlineData("::ffff:10.1.2.3", "Europe/Berlin")]
    [InlineData("2001:db8:1::5", "America/New_York")]
    [InlineData("2001:db9::5", "UTC")]
    public void ACidrRuleMatchesItsRangeForIpv4MappedIpv4AndIpv6(string ip, string zone)
    {
        var table = Table(
            null,
            new SyslogTimeZoneRule { Cidr = "10.1.0.0/16", TimeZone = "Europe/Berlin" },
            new SyslogTimeZoneRule { Cidr = "2001:db8::/32", TimeZone = "America/New_York" });

        Assert.Equal(zone, Resolve(table, ip));
    }

    [Fact]
    public void TheFirstMatchingRuleWins()
    {
        var table = Table(
            null,
            new SyslogTimeZoneRule { Cidr = "10.1.2.0/24", TimeZone = "Asia/Tokyo" },
            new SyslogTimeZoneRule { Cidr = "10.0.0.0/8", TimeZone = "Europe/Berlin" });

        Assert.Equal("Asia/Tokyo", Resolve(table, "10.1.2.3"));
        Assert.Equal("Europe/Berlin", Resolve(table, "10.9.9.9"));
    }

    [Theory]
    [InlineData("router1", "America/New_York")]
    [InlineData("ROUTER1", "America/New_York")]
    [InlineData("router10", "UTC")]
    [InlineData("edge.nyc.example.com", "America/New_York")]
    [InlineData("A.B.NYC.Example.COM", "America/New_York")]
    [InlineData("nyc.example.com", "UTC")]
    [InlineData("xnyc.example.com", "UTC")]
    [InlineData("", "UTC")]
    public void AHostnameRuleMatchesWithoutRegardToCaseAndAWildcardMatchesSubdomainsOnly(string hostname, string zone)
    {
        var table = Table(
            null,
            new SyslogTimeZoneRule { Hostname = "router1", TimeZone = "America/New_York" },
            new SyslogTimeZoneRule { Hostname = "*.nyc.example.com", TimeZone = "America/New_York" });

        Assert.Equal(zone, Resolve(table, "192.0.2.1", hostname));
    }

    [Fact]
    public void ARuleWithCidrAndHostnameNeedsBothToMatch()
    {
        var table = Table(null, new SyslogTimeZoneRule { Cidr = "10.0.0.0/8", Hostname = "fw01", TimeZone = "Europe/Berlin" });

        Assert.Equal("Europe/Berlin", Resolve(table, "10.0.0.1", "fw01"));
        Assert.Equal("UTC", Resolve(table, "10.0.0.1", "fw02"));
        Assert.Equal("UTC", Resolve(table, "192.0.2.1", "fw01"));
        Assert.Equal("UTC", Resolve(table, null, "fw01"));
    }

    [Fact]
    public void ABareAddressIsARangeOfOneAndHostBitsAreIgnored()
    {
        var table = Table(
            null,
            new SyslogTimeZoneRule { Cidr = "192.0.2.7", TimeZone = "Asia/Tokyo" },
            new SyslogTimeZoneRule { Cidr = "10.1.2.3/16", TimeZone = "Europe/Berlin" },
            new SyslogTimeZoneRule { Cidr = "0.0.0.0/0", TimeZone = "America/New_York" });

        Assert.Equal("Asia/Tokyo", Resolve(table, "192.0.2.7"));
        Assert.Equal("Europe/Berlin", Resolve(table, "10.1.200.1"));
        Assert.Equal("America/New_York", Resolve(table, "192.0.2.8"));
        Assert.Equal("UTC", Resolve(table, "2001:db8::1"));
    }

    [Theory]
    [InlineData("10.1.0.0/33")]
    [InlineData("10.1/16")]
    [InlineData("10.1.0.0/-1")]
    [InlineData("10.1.0.0/ 8")]
    [InlineData("not-an-address/8")]
    [InlineData("2001:db8::/129")]
    public void AnInvalidCidrFailsAtConstructionNamingTheRule(string cidr)
    {
        var e = Assert.Throws<ArgumentException>(() => Table(
            null,
            new SyslogTimeZoneRule { Hostname = "ok", TimeZone = "UTC" },
            new SyslogTimeZoneRule { Cidr = cidr, TimeZone = "Europe/Berlin" }));

        Assert.Contains("rule 1", e.Message, StringComparison.Ordinal);
        Assert.Contains(cidr, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownZoneFailsAtConstructionNamingTheRule()
    {
        var e = Assert.Throws<ArgumentException>(() => Table(null, new SyslogTimeZoneRule { Cidr = "10.0.0.0/8", TimeZone = "Mars/Olympus_Mons" }));

        Assert.Contains("rule 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("Mars/Olympus_Mons", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownDefaultZoneFailsAtConstruction()
    {
        var e = Assert.Throws<ArgumentException>(() => Table("Nowhere/Special"));

        Assert.Contains("DefaultTimeZone", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", " ")]
    [InlineData(null, "*")]
    [InlineData(null, "router*")]
    [InlineData(null, "*.")]
    [InlineData(null, "rüter")]
    public void ARuleWithoutAUsableCidrOrHostnameFailsAtConstruction(string? cidr, string? hostname)
    {
        var e = Assert.Throws<ArgumentException>(() => Table(null, new SyslogTimeZoneRule { Cidr = cidr, Hostname = hostname, TimeZone = "UTC" }));

        Assert.Contains("rule 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OptionsBindFromConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Syslog:TimeZones:DefaultTimeZone"] = "Europe/London",
                ["Syslog:TimeZones:Rules:0:Cidr"] = "10.1.0.0/16",
                ["Syslog:TimeZones:Rules:0:TimeZone"] = "Europe/Berlin",
                ["Syslog:TimeZones:Rules:1:Hostname"] = "router1",
                ["Syslog:TimeZones:Rules:1:TimeZone"] = "America/New_York",
            })
            .Build();
        var options = new SyslogTimeZoneOptions();
        configuration.GetSection("Syslog:TimeZones").Bind(options);
        var table = new SourceTimeZoneTable(options);

        Assert.Equal(2, options.Rules.Count);
        Assert.Equal("Europe/Berlin", Resolve(table, "10.1.0.9"));
        Assert.Equal("America/New_York", Resolve(table, "192.0.2.1", "Router1"));
        Assert.Equal("Europe/London", Resolve(table, "192.0.2.1", "other"));
    }

    [Fact]
    public void ResolvingAllocatesNothing()
    {
        var table = Table(
            null,
            new SyslogTimeZoneRule { Cidr = "10.1.0.0/16", TimeZone = "Europe/Berlin" },
            new SyslogTimeZoneRule { Cidr = "2001:db8::/32", TimeZone = "Europe/Berlin" },
            new SyslogTimeZoneRule { Hostname = "*.nyc.example.com", TimeZone = "America/New_York" });
        var v4 = IPAddress.Parse("10.2.0.1");
        var v6 = IPAddress.Parse("2001:db8::1");
        table.Resolve(v4, "edge.nyc.example.com"u8);
        table.Resolve(v6, "x"u8);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            table.Resolve(v4, "edge.nyc.example.com"u8);
            table.Resolve(v6, "x"u8);
            table.Resolve(null, "nothing"u8);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void TheTableDrivesTheParsersZoneForBsdLines()
    {
        var table = Table(null, new SyslogTimeZoneRule { Cidr = "10.1.0.0/16", TimeZone = "Europe/Berlin" });
        var received = new DateTimeOffset(2024, 7, 1, 12, 0, 0, TimeSpan.Zero);

        var berlin = Parsed.Of("<13>Jul  1 13:59:00 host app: x", received, table, IPAddress.Parse("10.1.0.1"));
        var other = Parsed.Of("<13>Jul  1 13:59:00 host app: x", received, table, IPAddress.Parse("10.2.0.1"));

        Assert.Equal(new DateTimeOffset(2024, 7, 1, 11, 59, 0, TimeSpan.Zero), berlin.Timestamp);
        Assert.Equal(new DateTimeOffset(2024, 7, 1, 13, 59, 0, TimeSpan.Zero), other.Timestamp);
    }
}
