using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Infra;

/// <summary>
/// There is no Docker engine on the build machines, so the deployment files are checked by reading them: the
/// compose file as docker-compose itself resolves it (anchors and merges applied), the Dockerfile as text.
/// </summary>
public sealed partial class DockerComposeTests
{
    private const string RuntimeUid = "10001";

    /// <summary>What the compose file asks the environment for (a start without them is refused, as the last test shows).</summary>
    internal static readonly Dictionary<string, string> Variables = new() { ["TOPK_READ_TOKEN"] = "read-token-of-the-test" };

    [Fact]
    public async Task DockerComposeAcceptsTheComposeFile()
    {
        var compose = Repository.Path_("docker-compose.yml");
        // docker-compose (Debian's v1) validates the file without an engine; -q prints nothing when it is valid.
        var output = await Peers.RunAsync("docker-compose", ["-f", compose, "config", "-q"], environment: Variables);
        Assert.Equal("", output.Trim());
    }

    [Fact]
    public async Task EveryImageTheComposeFileBuildsIsAProjectOfTheRepositoryBuiltWithTheOneDockerfile()
    {
        var built = (await ComposeAsync()).Services.Where(s => s.Value.TryGetProperty("build", out _)).ToList();
        Assert.Contains(built, s => Project(s.Value) == "producer/Pipeline.Edge");
        Assert.Contains(built, s => Project(s.Value) == "consumers/Pipeline.Consumers.Postgres");
        Assert.All(built, s =>
        {
            var project = Project(s.Value);
            Assert.True(File.Exists(Repository.Path_(project, Path.GetFileName(project) + ".csproj")), $"{s.Key}: {project}");
            Assert.Equal("infra/docker/Dockerfile", s.Value.GetProperty("build").GetProperty("dockerfile").GetString());
        });
    }

    [Fact]
    public async Task TheObservabilityProfileAddsPrometheusAndGrafanaWithTheShippedFilesAndScrapesEveryService()
    {
        var compose = Repository.Path_("docker-compose.yml");
        var services = await Peers.RunAsync("docker-compose", ["-f", compose, "--profile", "observability", "config", "--services"], environment: Variables);
        Assert.Contains("prometheus", services.Split('\n'));
        Assert.Contains("grafana", services.Split('\n'));
        var text = await File.ReadAllTextAsync(compose);
        // Only with the profile: a plain `docker compose up` starts the pipeline alone.
        Assert.Matches(@"\n  prometheus:\n    image: [^\n]+\n    profiles: \[observability\]", text);
        Assert.Matches(@"\n  grafana:\n    image: [^\n]+\n    profiles: \[observability\]", text);
        foreach (var source in MountedSource().Matches(text).Select(m => m.Groups[1].Value).Where(s => s.StartsWith("infra/observability", StringComparison.Ordinal)))
            Assert.True(File.Exists(Repository.Path_(source)) || Directory.Exists(Repository.Path_(source)), source);

        // Every scrape job names a service of the compose file at the port that service serves /metrics on (its admin
        // port when it has one).
        var scrape = await File.ReadAllTextAsync(Repository.Path_("infra", "observability", "prometheus.yml"));
        var targets = ScrapeTarget().Matches(scrape).Select(m => (Service: m.Groups[1].Value, Port: m.Groups[2].Value)).ToList();
        Assert.Equal(["edge", "files", "noc", "siem", "topk"], targets.Select(t => t.Service).Order(StringComparer.Ordinal));
        var resolved = await ComposeAsync();
        foreach (var (service, port) in targets)
        {
            var environment = Environment(resolved.Services[service]).ToDictionary(e => e.Key, e => e.Value);
            Assert.Equal($"0.0.0.0:{port}", environment.GetValueOrDefault("Admin__Bind") ?? environment["Http__Bind"]);
        }
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

    [Fact]
    public async Task EveryPathTheComposeFileMountsIntoAnImageOfOursIsCreatedInTheImageAndOwnedByItsNonRootUser()
    {
        var image = Dockerfile.Read();
        Assert.Equal($"{RuntimeUid}:{RuntimeUid}", image.User);
        Assert.DoesNotContain("0", image.User.Split(':'));
        foreach (var (name, service) in (await ComposeAsync()).Services.Where(s => s.Value.TryGetProperty("build", out _)))
        {
            foreach (var target in MountTargets(service))
                Assert.True(image.OwnedDirectories.Contains(target), $"{name} mounts a volume on {target}, which the image does not create and give to uid {RuntimeUid} " +
                    $"(it creates {string.Join(", ", image.OwnedDirectories)}): Docker would make it root's, and the container could not write there");
            // A path the service is told to write to lies on one of its volumes: nothing written is lost with the container.
            foreach (var (key, value) in Environment(service).Where(e => e.Value.StartsWith("/var/lib/pipeline/", StringComparison.Ordinal)))
                Assert.True(MountTargets(service).Any(t => value == t || value.StartsWith(t + "/", StringComparison.Ordinal)), $"{name}: {key}={value} is on no volume");
        }
    }

    [Fact]
    public void TheImageRestoresOfficialPackagesOnlyWithNoCompilerAndNoNativeBuild()
    {
        var text = File.ReadAllText(Repository.Path_("infra", "docker", "Dockerfile"));
        foreach (var banned in new[] { "build-essential", "gcc", "make ", "npm", "librdkafka/build.sh", "configure", "nuget-local" })
            Assert.DoesNotContain(banned, text, StringComparison.Ordinal);
        Assert.Contains("dotnet publish", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Repository.Path_("infra", "librdkafka")), "infra/librdkafka (a native build) is back");
        Assert.DoesNotContain("build-essential", File.ReadAllText(Repository.Path_("infra", "setup.sh")), StringComparison.Ordinal);
        Assert.DoesNotContain("npm", File.ReadAllText(Repository.Path_("infra", "setup.sh")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheEdgeRunsOnTheJemallocItsImageInstallsWhereEveryArchitecturesImageLinksIt()
    {
        var edge = Environment((await ComposeAsync()).Services["edge"]).ToDictionary(e => e.Key, e => e.Value);
        var preload = edge["LD_PRELOAD"];
        Assert.Equal(Pipeline.Core.Hosting.JemallocPreload.Settings, edge["MALLOC_CONF"]);
        var dockerfile = File.ReadAllText(Repository.Path_("infra", "docker", "Dockerfile"));

        Assert.Equal("/usr/local/lib/libjemalloc.so.2", preload);
        Assert.Contains("libjemalloc2", dockerfile, StringComparison.Ordinal);
        Assert.Contains($"ln -s \"$(find /usr/lib -name libjemalloc.so.2 | head -n 1)\" {preload}", dockerfile, StringComparison.Ordinal);
        Assert.Contains("libjemalloc2", File.ReadAllText(Repository.Path_("infra", "setup.sh")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryLongRunningServiceHasAHealthcheckAndEachWorkerChecksThePortItListensOn()
    {
        foreach (var (name, service) in (await ComposeAsync()).Services)
        {
            if (OneShot(service)) continue;
            var test = service.TryGetProperty("healthcheck", out var health) && health.TryGetProperty("test", out var command) ? command : default;
            Assert.True(test.ValueKind == JsonValueKind.Array, $"{name} has no healthcheck");
            if (!service.TryGetProperty("build", out _)) continue;
            var line = string.Join(' ', test.EnumerateArray().Select(a => a.GetString()));
            var port = HealthPort().Match(line);
            Assert.True(port.Success, $"{name}: healthcheck '{line}' asks no /healthz");
            var binds = Environment(service).Where(e => e.Key.EndsWith("Bind", StringComparison.Ordinal)).Select(e => e.Value).ToList();
            Assert.Contains($"0.0.0.0:{port.Groups[1].Value}", binds);
        }
    }

    [Fact]
    public async Task NoServiceDependsOnAServiceVolumeOrPortThatIsNotThere()
    {
        var compose = await ComposeAsync();
        var declaredVolumes = compose.Root.TryGetProperty("volumes", out var volumes) ? volumes.EnumerateObject().Select(v => v.Name).ToHashSet() : [];
        foreach (var (name, service) in compose.Services)
        {
            if (service.TryGetProperty("depends_on", out var dependsOn))
                foreach (var dependency in dependsOn.EnumerateObject())
                {
                    Assert.True(compose.Services.ContainsKey(dependency.Name), $"{name} depends on {dependency.Name}, which is no service");
                    var condition = dependency.Value.GetProperty("condition").GetString();
                    if (condition == "service_healthy") Assert.True(compose.Services[dependency.Name].TryGetProperty("healthcheck", out _), $"{name} waits for {dependency.Name} to be healthy; it has no healthcheck");
                    if (condition == "service_completed_successfully") Assert.True(OneShot(compose.Services[dependency.Name]), $"{name} waits for {dependency.Name} to finish; it is not a one-shot job");
                }
            if (service.TryGetProperty("volumes", out var mounts))
                foreach (var mount in mounts.EnumerateArray().Select(m => m.GetString()!.Split(':')[0]).Where(source => !source.StartsWith('/')))
                    Assert.True(declaredVolumes.Contains(mount), $"{name} mounts the volume {mount}, which is not declared");
            // Every host:port another service is reached at is a port that service exposes.
            foreach (var (key, value) in Environment(service))
                foreach (Match endpoint in ServiceEndpoint().Matches(value))
                {
                    var (host, port) = (endpoint.Groups["host"].Value, endpoint.Groups["port"].Value);
                    if (!compose.Services.TryGetValue(host, out var target)) continue;
                    Assert.True(Exposed(target).Contains(port), $"{name}: {key} reaches {host}:{port}, which {host} does not expose");
                }
        }
        Assert.Contains("/app/topics.json", string.Join(' ', compose.Services["kafka-init"].GetProperty("command").EnumerateArray().Select(a => a.GetString())));
        Assert.Contains("cp infra/kafka/topics.json /app/topics.json", File.ReadAllText(Repository.Path_("infra", "docker", "Dockerfile")), StringComparison.Ordinal);
    }

    [Fact]
    public void TheSettingsAReaderWouldCopyToProductionAreMarkedAsSuch()
    {
        var lines = File.ReadAllLines(Repository.Path_("docker-compose.yml"));
        foreach (var setting in new[] { "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "KAFKA_LOG_RETENTION_HOURS", "--replication-factor" })
        {
            var at = Array.FindIndex(lines, l => l.Contains(setting, StringComparison.Ordinal) && !l.TrimStart().StartsWith('#'));
            Assert.True(at > 0, $"{setting} is not in docker-compose.yml");
            var comment = lines.Take(at).Reverse().TakeWhile(l => l.TrimStart().StartsWith('#') || l.Contains("KAFKA_", StringComparison.Ordinal)).ToList();
            Assert.True(comment.Any(l => l.Contains("PRODUCTION:", StringComparison.Ordinal)), $"{setting} carries no PRODUCTION: note above it");
        }
        Assert.Contains(lines, l => l.Contains("KAFKA_AUTO_CREATE_TOPICS_ENABLE: \"false\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AdminPortsAreNeverPublishedHealthchecksUseThemAndThePublishedReadApiNeedsATokenWithoutWhichNothingStarts()
    {
        var compose = await ComposeAsync();
        foreach (var (name, service) in compose.Services)
        {
            if (Environment(service).FirstOrDefault(e => e.Key == "Admin__Bind").Value is not { } admin) continue;
            var port = admin.Split(':')[^1];
            Assert.DoesNotContain(port, Published(service));
            Assert.Contains(port, Exposed(service));
            Assert.Contains($"http://127.0.0.1:{port}/healthz", string.Join(' ', service.GetProperty("healthcheck").GetProperty("test").EnumerateArray().Select(a => a.GetString())));
        }
        Assert.Contains("edge", compose.Services.Keys.Where(k => Environment(compose.Services[k]).Any(e => e.Key == "Admin__Bind")));
        // top-k's query port is published and bound beyond loopback: its read token is the environment's.
        var topk = Environment(compose.Services["topk"]).ToDictionary(e => e.Key, e => e.Value);
        Assert.Contains("9103", Published(compose.Services["topk"]));
        Assert.Equal(Variables["TOPK_READ_TOKEN"], topk["Http__ReadTokens__0__Token"]);

        // Without the variable the file still validates, and top-k refuses the empty token it gets, saying what is missing.
        var (exit, _, error) = await Peers.RunUncheckedAsync("docker-compose", ["-f", Repository.Path_("docker-compose.yml"), "config", "-q"],
            environment: new Dictionary<string, string> { ["TOPK_READ_TOKEN"] = "" });
        Assert.True(exit == 0, error);
        var refused = Assert.Throws<ArgumentException>(() => new Pipeline.Core.Security.AccessToken { Token = "" }.Validate("Http:ReadTokens:0"));
        Assert.Contains("no token", refused.Message, StringComparison.Ordinal);
    }

    private static string Project(JsonElement service) => service.GetProperty("build").GetProperty("args").GetProperty("PROJECT").GetString()!;

    private static bool OneShot(JsonElement service) => service.TryGetProperty("restart", out var restart) && restart.GetString() == "no";

    private static List<string> MountTargets(JsonElement service) =>
        service.TryGetProperty("volumes", out var volumes) ? volumes.EnumerateArray().Select(v => v.GetString()!.Split(':')[1]).ToList() : [];

    private static IEnumerable<KeyValuePair<string, string>> Environment(JsonElement service) =>
        service.TryGetProperty("environment", out var environment)
            ? environment.EnumerateObject().Select(e => new KeyValuePair<string, string>(e.Name, e.Value.ToString()))
            : [];

    private static HashSet<string> Published(JsonElement service) =>
        service.TryGetProperty("ports", out var published) ? published.EnumerateArray().Select(p => p.GetProperty("target").ToString()).ToHashSet() : [];

    private static HashSet<string> Exposed(JsonElement service)
    {
        var ports = new HashSet<string>();
        if (service.TryGetProperty("expose", out var expose)) foreach (var p in expose.EnumerateArray()) ports.Add(p.ToString());
        if (service.TryGetProperty("ports", out var published)) foreach (var p in published.EnumerateArray()) ports.Add(p.GetProperty("target").ToString());
        return ports;
    }

    /// <summary>The compose file as docker-compose resolves it, read into JSON by the YAML parser docker-compose itself uses.</summary>
    private static async Task<ComposeConfig> ComposeAsync()
    {
        var resolved = await Peers.RunAsync("docker-compose", ["-f", Repository.Path_("docker-compose.yml"), "config"], environment: Variables);
        var json = await Peers.RunAsync("python3", ["-c", "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"], resolved);
        var root = JsonDocument.Parse(json).RootElement.Clone();
        return new ComposeConfig(root, root.GetProperty("services").EnumerateObject().ToDictionary(s => s.Name, s => s.Value));
    }

    private sealed record ComposeConfig(JsonElement Root, Dictionary<string, JsonElement> Services);

    /// <summary>The runtime stage of infra/docker/Dockerfile: its USER, and the directories it creates owned by that user.</summary>
    private sealed record Dockerfile(string User, HashSet<string> OwnedDirectories)
    {
        public static Dockerfile Read()
        {
            var text = File.ReadAllText(Repository.Path_("infra", "docker", "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
            var runtime = text[text.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];
            var user = Regex.Matches(runtime, @"^USER\s+(\S+)", RegexOptions.Multiline).Last().Groups[1].Value;
            var owned = new HashSet<string>();
            foreach (Match install in InstallDirectories().Matches(runtime))
            {
                if (install.Groups["owner"].Value != RuntimeUid || install.Groups["group"].Value != RuntimeUid) continue;
                foreach (var path in install.Groups["paths"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).TakeWhile(p => p.StartsWith('/'))) owned.Add(path);
            }
            return new Dockerfile(user, owned);
        }
    }

    [GeneratedRegex(@"install -d -o (?<owner>\S+) -g (?<group>\S+)(?: -m \d+)? (?<paths>(?:/\S+ ?)+)")]
    private static partial Regex InstallDirectories();

    [GeneratedRegex(@"http://127\.0\.0\.1:(\d+)/healthz")]
    private static partial Regex HealthPort();

    [GeneratedRegex(@"(?:Host=|^|[\s,/])(?<host>[a-z][a-z0-9-]*)(?::|;Port=)(?<port>\d+)")]
    private static partial Regex ServiceEndpoint();

    [GeneratedRegex(@"Consumer__InstanceId:\s*(\S+)")]
    private static partial Regex InstanceId();

    [GeneratedRegex(@"Consumer__Group:\s*(\S+)")]
    private static partial Regex ConsumerGroup();

    [GeneratedRegex(@"- \./([\w./-]+):/")]
    private static partial Regex MountedSource();

    [GeneratedRegex(@"names: \[(\w+)\]\s+type: A\s+port: (\d+)")]
    private static partial Regex ScrapeTarget();
}
