using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Infra;

/// <summary>
/// docker-compose.secure.yml: Kafka over SASL_SSL with SCRAM, checked as docker-compose resolves it on top of
/// docker-compose.yml (no Docker engine here), with the secrets infra/kafka/secure/make-secrets.sh makes.
/// </summary>
public sealed partial class SecureComposeTests : IAsyncLifetime
{
    private static readonly string[] KafkaClients = ["kafka-init", "edge", "noc", "siem", "topk", "files"];
    private string _secrets = null!;
    private Dictionary<string, string> _variables = null!;

    public async Task InitializeAsync()
    {
        _secrets = Path.Combine(Directory.CreateTempSubdirectory("kafka-secrets-").FullName, "kafka");
        await Peers.RunAsync(Repository.Path_("infra", "kafka", "secure", "make-secrets.sh"), [_secrets]);
        _variables = new Dictionary<string, string>(DockerComposeTests.Variables) { ["PIPELINE_KAFKA_SECRETS"] = _secrets };
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Path.GetDirectoryName(_secrets)!, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task DockerComposeAcceptsTheSecureOverrideOnTopOfTheComposeFile()
    {
        var output = await Peers.RunAsync("docker-compose", [.. Files(), "config", "-q"], environment: _variables);
        Assert.Equal("", output.Trim());
    }

    [Fact]
    public async Task EveryKafkaClientSpeaksSaslSslWithScramAsAUserOfItsOwnWhosePasswordIsASecretFileTheBrokerFormatsItWith()
    {
        var (root, services) = await ResolvedAsync();
        var kafka = Environment(services["kafka"]);
        Assert.Equal("SASL_SSL://kafka:9094", kafka["KAFKA_ADVERTISED_LISTENERS"]);
        Assert.DoesNotContain("PLAINTEXT://", kafka["KAFKA_LISTENERS"].Replace("CONTROLLER://", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(("SCRAM-SHA-512", "SCRAM-SHA-512", "false"),
            (kafka["KAFKA_SASL_ENABLED_MECHANISMS"], kafka["KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL"], kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]));
        var command = string.Join('\n', services["kafka"].GetProperty("command").EnumerateArray().Select(a => a.GetString()));
        var scramUsers = ScramUsers().Match(command).Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("--add-scram", command, StringComparison.Ordinal);
        Assert.Contains("admin", scramUsers);
        // Every file the broker reads is one make-secrets.sh made, in the directory mounted at /etc/kafka/secrets.
        var mounted = services["kafka"].GetProperty("volumes").EnumerateArray().Select(v => v.GetString()!).Single(v => v.EndsWith(":/etc/kafka/secrets:ro", StringComparison.Ordinal));
        var brokerFiles = mounted[..mounted.IndexOf(':', StringComparison.Ordinal)];
        foreach (var file in new[] { kafka["KAFKA_SSL_KEYSTORE_FILENAME"], kafka["KAFKA_SSL_KEYSTORE_CREDENTIALS"], kafka["KAFKA_SSL_KEY_CREDENTIALS"], "kafka_server_jaas.conf", "admin.properties", "ca.pem" }
            .Concat(scramUsers.Select(u => u + ".password")))
            Assert.True(File.Exists(Path.Combine(brokerFiles, file)), $"the broker reads /etc/kafka/secrets/{file}, which make-secrets.sh did not make");

        var users = new List<string>();
        foreach (var name in KafkaClients)
        {
            var environment = Environment(services[name]);
            Assert.Equal(("kafka:9094", "SASL_SSL", "SCRAM-SHA-512", "/run/secrets"), (environment["Kafka__BootstrapServers"],
                environment["Kafka__Properties__security.protocol"], environment["Kafka__Properties__sasl.mechanism"], environment["PIPELINE_SECRETS_DIR"]));
            // No password in the environment: it is the secret file /run/secrets/Kafka__Properties__sasl.password.
            Assert.DoesNotContain(environment.Keys, k => k.Contains("password", StringComparison.OrdinalIgnoreCase));
            var user = environment["Kafka__Properties__sasl.username"];
            Assert.Contains(user, scramUsers);
            users.Add(user);
            var secrets = services[name].GetProperty("secrets").EnumerateArray().ToDictionary(s => s.GetProperty("target").GetString()!, s => s.GetProperty("source").GetString()!);
            Assert.Equal(Path.Combine(brokerFiles, user + ".password"), SecretFile(secrets["Kafka__Properties__sasl.password"]));
            Assert.Equal("/run/secrets/" + secrets.Single(s => s.Value == "kafka-ca").Key, environment["Kafka__Properties__ssl.ca.location"]);
        }
        Assert.Equal(users.Count, users.Distinct().Count());
        return;

        string SecretFile(string name) => root.GetProperty("secrets").GetProperty(name).GetProperty("file").GetString()!;
    }

    [Fact]
    public async Task MakeSecretsGivesTheBrokerACertificateForKafkaFromItsCaAKeystoreThatOpensWithItsPasswordAndNeverOverwrites()
    {
        var broker = Path.Combine(_secrets, "broker");
        await Peers.RunAsync("openssl", ["verify", "-CAfile", Path.Combine(broker, "ca.pem"), "-verify_hostname", "kafka", Path.Combine(_secrets, "broker.pem")]);
        await Peers.RunAsync("openssl", ["pkcs12", "-in", Path.Combine(broker, "kafka.keystore.p12"), "-passin", "file:" + Path.Combine(broker, "keystore-password"), "-noout"]);
        var admin = (await File.ReadAllTextAsync(Path.Combine(broker, "admin.password"))).Trim();
        Assert.Contains($"password=\"{admin}\"", await File.ReadAllTextAsync(Path.Combine(broker, "kafka_server_jaas.conf")), StringComparison.Ordinal);
        Assert.Contains($"password=\"{admin}\"", await File.ReadAllTextAsync(Path.Combine(broker, "admin.properties")), StringComparison.Ordinal);
        // The CA's key stays out of what is mounted into any container.
        Assert.False(File.Exists(Path.Combine(broker, "ca.key")));
        var again = await Peers.RunUncheckedAsync(Repository.Path_("infra", "kafka", "secure", "make-secrets.sh"), [_secrets]);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Equal(admin, (await File.ReadAllTextAsync(Path.Combine(broker, "admin.password"))).Trim());
    }

    private string[] Files() => ["-f", Repository.Path_("docker-compose.yml"), "-f", Repository.Path_("docker-compose.secure.yml")];

    /// <summary>Both files as docker-compose resolves them, read into JSON by the YAML parser docker-compose itself uses.</summary>
    private async Task<(JsonElement Root, Dictionary<string, JsonElement> Services)> ResolvedAsync()
    {
        var resolved = await Peers.RunAsync("docker-compose", [.. Files(), "config"], environment: _variables);
        var json = await Peers.RunAsync("python3", ["-c", "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"], resolved);
        var root = JsonDocument.Parse(json).RootElement.Clone();
        return (root, root.GetProperty("services").EnumerateObject().ToDictionary(s => s.Name, s => s.Value));
    }

    private static Dictionary<string, string> Environment(JsonElement service) =>
        service.GetProperty("environment").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.ToString());

    [GeneratedRegex(@"for user in ([a-z ]+); do")]
    private static partial Regex ScramUsers();
}
