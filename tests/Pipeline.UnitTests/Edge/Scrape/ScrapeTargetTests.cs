using Pipeline.Edge.Sources.Scrape;

namespace Pipeline.UnitTests.Edge.Scrape;

public sealed class ScrapeTargetTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("scrape-targets-");
    private readonly ScrapeTargetFactory _factory = new(new ScrapeOptions { Labels = { ["region"] = "eu" } }, "edge-1", new Dictionary<string, string>());

    public void Dispose() => _directory.Delete(recursive: true);

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void AFileSdJsonFileGivesOneTargetPerAddressWithItsGroupsLabelsAndTheReservedLabelsShapeTheRequest()
    {
        var path = WriteFile("nodes.json", """
            [
              { "targets": ["10.0.0.1:9100", "10.0.0.2:9100"], "labels": { "rack": "r1", "__metrics_path__": "/probe",
                "__param_module": "if_mib", "__scheme__": "https", "__scrape_interval__": "30s", "__scrape_timeout__": "5s" } },
              { "targets": ["http://switch-1.example:9116/snmp?target=10.1.1.1"], "labels": { "job": "snmp", "instance": "switch-1" } },
              { "targets": [] }
            ]
            """);

        var targets = TargetFile.Read(path, new ScrapeFileOptions { Path = path, Job = "node" }, _factory);

        Assert.Equal(3, targets.Count);
        var first = targets[0];
        Assert.Equal("https://10.0.0.1:9100/probe?module=if_mib", first.Url.AbsoluteUri);
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), "file"), (first.Interval, first.Timeout, first.Source));
        Assert.Equal([("instance", "10.0.0.1:9100"), ("job", "node"), ("rack", "r1"), ("region", "eu")], first.Labels.Select(l => (l.Key, l.Value)));
        Assert.Equal(("snmp", "switch-1", "http://switch-1.example:9116/snmp?target=10.1.1.1"), (targets[2].Job, targets[2].Instance, targets[2].Url.AbsoluteUri));
        Assert.Null(targets[2].Origin.Peer);
        Assert.Equal("10.0.0.2", targets[1].Origin.Peer!.Address.ToString());
    }

    [Fact]
    public void AYamlFileReadsTheSameWay()
    {
        var path = WriteFile("nodes.yml", """
            - targets: ['127.0.0.1:9100']
              labels:
                env: prod
                port_number: 9100
            """);

        var target = Assert.Single(TargetFile.Read(path, new ScrapeFileOptions { Path = path }, _factory));

        Assert.Equal(("http://127.0.0.1:9100/metrics", "scrape", "prod", "9100"), (target.Url.AbsoluteUri, target.Job, target.Labels.Single(l => l.Key == "env").Value,
            target.Labels.Single(l => l.Key == "port_number").Value));
    }

    [Theory]
    [InlineData("bad.json", "{ \"targets\": [] }", "JSON array of target groups")]
    [InlineData("bad.json", "[{ \"targets\": [1] }]", "array of strings")]
    [InlineData("bad.json", "[{ \"targets\": [\"a:1\"], \"labels\": { \"x\": 1 } }]", "label 'x' must be a string")]
    [InlineData("bad.json", "[{ \"targets\": [\"a:1\"], \"labels\": { \"bad-name\": \"v\" } }]", "'bad-name' is not a label name")]
    [InlineData("bad.json", "[{ \"targets\": [\"a:1\"], \"labels\": { \"__scheme__\": \"ftp\" } }]", "is not http or https")]
    [InlineData("bad.json", "[{ \"targets\": [\"a:1\"], \"labels\": { \"__scrape_timeout__\": \"20s\" } }]", "must not exceed Interval")]
    [InlineData("bad.json", "[{ \"targets\": [\"a:1\"], \"labels\": { \"__scrape_interval__\": \"soon\" } }]", "is not a duration")]
    [InlineData("bad.json", "[{ \"targets\": [\"a b:1\"] }]", "neither host:port nor an http(s) URL")]
    [InlineData("bad.json", "[{ \"targets\": [\"a:1\"", "target file")]
    [InlineData("bad.yml", "- targets: [a:1\n  labels: {", "target file")]
    [InlineData("bad.yml", "- targets: ['a:1']\n  lables: {}\n", "target file")]
    [InlineData("bad.txt", "[]", "ends in .json, .yml or .yaml")]
    public void ATargetFileThatCannotBeReadNamesTheFileAndWhatIsWrong(string name, string text, string reason)
    {
        var path = WriteFile(name, text);

        var error = Assert.Throws<FormatException>(() => TargetFile.Read(path, new ScrapeFileOptions { Path = path }, _factory));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("15s", 15_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("500ms", 500)]
    [InlineData("2h", 7_200_000)]
    [InlineData("1d", 86_400_000)]
    public void PrometheusDurationsAreRead(string text, long milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), TargetLabels.Duration(text, "x"));

    [Fact]
    public void AWildcardInTheFileNameExpandsToTheMatchingFilesInNameOrder()
    {
        WriteFile("b.json", "[]");
        WriteFile("a.json", "[]");
        WriteFile("c.yml", "[]");

        Assert.Equal(["a.json", "b.json"], TargetFile.Expand(Path.Combine(_directory.FullName, "*.json")).Select(Path.GetFileName));
        Assert.Empty(TargetFile.Expand(Path.Combine(_directory.FullName, "missing.json")));
    }

    [Theory]
    [InlineData("ftp://x/metrics", null, null, "is not an http(s) URL")]
    [InlineData("http://x/metrics", "00:00:05", "00:00:10", "must not exceed Interval")]
    [InlineData("http://x/metrics", "00:00:00.050", "00:00:00.010", "at least 100 ms")]
    public void AMisconfiguredTargetIsRefusedAtStartUpNamingIt(string url, string? interval, string? timeout, string reason)
    {
        var options = new ScrapeOptions
        {
            Targets = [new ScrapeTargetOptions { Url = url, Interval = interval is null ? null : TimeSpan.Parse(interval), Timeout = timeout is null ? null : TimeSpan.Parse(timeout) }],
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("Edge:Scrape:Targets:0", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSameTargetFromTwoReadsHasTheSameKeyAndAChangedLabelMakesADifferentTarget()
    {
        var a = MetricEnvelopeTests.Target(labels: new() { ["env"] = "prod" });
        var b = MetricEnvelopeTests.Target(labels: new() { ["env"] = "prod" });
        var c = MetricEnvelopeTests.Target(labels: new() { ["env"] = "test" });

        Assert.Equal(a.Key, b.Key);
        Assert.NotEqual(a.Key, c.Key);
    }
}
