using System.Net.Http.Headers;
using System.Text;
using Npgsql;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.EndToEnd;

/// <summary>
/// Secrets come from the environment or from files (PIPELINE_SECRETS_DIR) and never reach a log: the whole pipeline
/// runs with every kind of secret set — ingest and read tokens, Kafka passwords, the PostgreSQL password, a HEC token
/// that the HEC endpoint refuses — logging at Debug, is used with right and wrong tokens, is stopped, and every
/// process's output is searched for each secret.
/// </summary>
public sealed class SecretsNotLoggedTests
{
    [KafkaFact]
    public async Task NoProcessOfThePipelineWritesAnyOfItsSecretsToItsOutput()
    {
        string Secret(string what) => $"{what}-{Guid.NewGuid():N}";
        var ingestToken = Secret("ingest");
        var readToken = Secret("read");
        var hecToken = Secret("hec");
        var kafkaPasswords = new[] { "edge", "noc", "siem", "topk", "files" }.ToDictionary(p => p, p => Secret("kafka-" + p));

        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 2, "alerts");
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var postgresPassword = new NpgsqlConnectionStringBuilder(db.ConnectionString).Password!;
        Assert.False(string.IsNullOrEmpty(postgresPassword), "the test's PostgreSQL has no password to keep secret");
        var archive = SiemArchive.NewTemporary();
        var edgeSecrets = Directory.CreateTempSubdirectory("edge-secrets-").FullName;
        var filesSecrets = Directory.CreateTempSubdirectory("files-secrets-").FullName;
        // The HEC endpoint expects another token: every forwarding attempt is refused, and the SIEM says so in its log.
        await using var hec = new FakeHecServer("not-" + hecToken, (_, _) => false);
        try
        {
            // From files, as Docker or Kubernetes secrets: the ingest token and the edge's and the jsonl sink's Kafka passwords.
            await File.WriteAllTextAsync(Path.Combine(edgeSecrets, "Edge__Http__Tokens__0__Token"), ingestToken + "\n");
            await File.WriteAllTextAsync(Path.Combine(edgeSecrets, "Kafka__Properties__sasl.password"), kafkaPasswords["edge"] + "\n");
            await File.WriteAllTextAsync(Path.Combine(filesSecrets, "Kafka__Properties__sasl.password"), kafkaPasswords["files"]);

            Dictionary<string, string> Environment(string process, IDictionary<string, string>? more = null)
            {
                var environment = new Dictionary<string, string>
                {
                    ["Logging__LogLevel__Default"] = "Debug",
                    ["Kafka__Properties__sasl.username"] = "pipeline-" + process,
                };
                if (process is "edge") environment["PIPELINE_SECRETS_DIR"] = edgeSecrets;
                else if (process is "files") environment["PIPELINE_SECRETS_DIR"] = filesSecrets;
                else environment["Kafka__Properties__sasl.password"] = kafkaPasswords[process];
                foreach (var (key, value) in more ?? new Dictionary<string, string>()) environment[key] = value;
                return environment;
            }

            var edge = await pipeline.StartEdgeAsync(["--Edge:Http:AllowAnonymous=false", "--Edge:Http:Tokens:0:Tenant=acme"], Environment("edge"));
            var noc = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Postgres", ["--postgres", db.ConnectionString, "--from", "earliest"], Environment("noc"));
            var topk = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.TopK", ["--postgres", db.ConnectionString, "--from", "earliest"],
                Environment("topk", new Dictionary<string, string> { ["Http__ReadTokens__0__Token"] = readToken }));
            var siem = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Siem", ["--archive", archive.Directory, "--from", "earliest"],
                Environment("siem", new Dictionary<string, string>
                {
                    ["Siem__Alerts__Topic"] = pipeline.Topic("alerts"),
                    ["Siem__Forwarders__0__Type"] = "hec",
                    ["Siem__Forwarders__0__Endpoint"] = hec.Endpoint,
                    ["Siem__Forwarders__0__Token"] = hecToken,
                    ["Siem__Forwarders__0__RetryInitialBackoff"] = "00:00:00.200",
                    ["Siem__Forwarders__0__RetryMaxBackoff"] = "00:00:01",
                }));
            var files = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.Files", ["--output", "-", "--from", "earliest"], Environment("files"));
            PipelineProcess[] all = [edge.Process, noc, topk, siem, files];

            using var http = new HttpClient();
            Assert.Equal(System.Net.HttpStatusCode.OK, await PostAsync(http, edge, ingestToken, "kept"));
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await PostAsync(http, edge, "wrong-token", "refused"));
            await Peers.RunAsync("logger", ["--tcp", "-n", "127.0.0.1", "-P", edge.SyslogPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-t", "sshd", "Failed password for root from 203.0.113.9 port 4242 ssh2"]);
            var topkQuery = new Uri(new Uri(topk.HealthUrl!), "/topk?dimension=host");
            using (var request = new HttpRequestMessage(HttpMethod.Get, topkQuery) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", readToken) } })
                Assert.True((await http.SendAsync(request)).IsSuccessStatusCode);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync(topkQuery)).StatusCode);

            // Every worker has read both events, and the SIEM has had its HEC token refused at least once.
            foreach (var worker in new[] { noc, topk, siem, files })
                await Eventually.True(async () => (await MetricsText.ScrapeAsync(worker)).Sum("consumer_records_total") >= 2, TimeSpan.FromSeconds(60), $"{worker.Name} to read the events");
            await Eventually.True(() => hec.Unauthorised > 0, TimeSpan.FromSeconds(60), "the HEC endpoint to refuse the SIEM's token");

            foreach (var process in all) await process.StopAsync();
            var secrets = new Dictionary<string, string>
            {
                ["the ingest token"] = ingestToken,
                ["topk's read token"] = readToken,
                ["the HEC token"] = hecToken,
                ["the PostgreSQL password"] = postgresPassword,
            };
            foreach (var (process, password) in kafkaPasswords) secrets[$"{process}'s Kafka password"] = password;
            foreach (var process in all)
            {
                Assert.NotEmpty(process.Output);
                foreach (var (what, secret) in secrets)
                    Assert.False(process.Output.Contains(secret, StringComparison.Ordinal), $"{process.Name} wrote {what} to its output:\n{process.Output}");
            }
        }
        finally
        {
            archive.Delete();
            Directory.Delete(edgeSecrets, recursive: true);
            Directory.Delete(filesSecrets, recursive: true);
        }
    }

    private static async Task<System.Net.HttpStatusCode> PostAsync(HttpClient http, EdgeProcess edge, string token, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, edge.HttpUrl + "/v1/events")
        {
            Content = new StringContent($$"""{"msg":"{{message}}"}""", Encoding.UTF8, "application/x-ndjson"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
