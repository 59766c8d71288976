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
    public async Task TheObservabilityProfileAddsPrometheusAndGrafanaWithTheShippedFilesAndScrapesEveryService()
    {
        var compose = Repository.Path_("docker-compose.yml");
        var services = await Peers.RunAsync("docker-compose", ["-f", compose, "--profile", "observability", "config", "--services"]);
        Assert.Contains("prometheus", services.Split('\n'));
        Assert.Contains("grafana", services.Split('\n'));
        var text = await File.ReadAllTextAsync(compose);
        // Only with the profile: a plain `docker compose up` starts the pipeline alone.
        Assert.Matches(@"\n  prometheus:\n    image: [^\n]+\n    profiles: \[observability\]", text);
        Assert.Matches(@"\n  grafana:\n    image: [^\n]+\n    profiles: \[observability\]", text);
        foreach (var source in MountedSource().Matches(text).Select(m => m.Groups[1].Value).Where(s => s.StartsWith("infra/observability", StringComparison.Ordinal)))
            Assert.True(File.Exists(Repository.Path_(source)) || Directory.Exists(Repository.Path_(source)), source);

        // Every scrape job names a service of the compose file at the port that service serves /metrics on.
        var scrape = await File.ReadAllTextAsync(Repository.Path_("infra", "observability", "prometheus.yml"));
        var targets = ScrapeTarget().Matches(scrape).Select(m => (Service: m.Groups[1].Value, Port: m.Groups[2].Value)).ToList();
        Assert.Equal(["edge", "files", "noc", "siem", "topk"], targets.Select(t => t.Service).Order(StringComparer.Ordinal));
        foreach (var (service, port) in targets)
        {
            Assert.Matches($@"\n  {service}:\n", text);
            Assert.Matches($@"(Http__Bind|Edge__Listeners__http__Bind): 0\.0\.0\.0:{port}", text);
        }
    }

    [GeneratedRegex(@"- \./([\w./-]+):/")]
    private static partial Regex MountedSource();

    [GeneratedRegex(@"names: \[(\w+)\]\s+type: A\s+port: (\d+)")]
    private static partial Regex ScrapeTarget();

    [GeneratedRegex(@"PROJECT:\s*([\w./-]+)")]
    private static partial Regex ProjectArgument();
}
