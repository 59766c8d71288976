using System.Net.Http;
using System.Text.Json;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Status;

/// <summary>The local run serves the status page over itself and says where in local.env.</summary>
public sealed class LocalStatusPageTests
{
    [Fact]
    public async Task TheLocalRunServesTheStatusPageAndWritesItsAddressToLocalEnv()
    {
        await using var database = await PostgresServer.Instance.CreateDatabaseAsync();
        var state = Directory.CreateTempSubdirectory("local-status-");
        var statusPort = FreePort.Next();
        var status = $"http://127.0.0.1:{statusPort}";
        // The local run listens for OTLP on 4318 unless told otherwise; a test must not take a well-known port.
        var otlpPort = FreePort.Next();
        // No worker (their admin ports are fixed): the edge, the embedded Kafka and the page.
        await using var local = PipelineProcess.Start("infra/Pipeline.Ops",
            ["local", "--postgres", database.ConnectionString, "--brokers", "1", "--syslog-port", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--http-port", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), "--workers", "none",
             "--status-http", $"127.0.0.1:{statusPort}", "--otlp-port", otlpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--state-dir", state.FullName],
            healthUrl: $"{status}/healthz");
        try
        {
            await local.WaitHealthyAsync();
            var env = Path.Combine(state.FullName, "local.env");
            await Eventually.True(() => File.Exists(env) && File.ReadAllText(env).Contains("STATUS_URL=", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "local.env names the page");
            Assert.Contains($"export STATUS_URL={status}/", await File.ReadAllTextAsync(env), StringComparison.Ordinal);

            Assert.Contains($"export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{otlpPort}", await File.ReadAllTextAsync(env), StringComparison.Ordinal);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            Assert.Contains("<title>Pipeline status</title>", await http.GetStringAsync(status), StringComparison.Ordinal);
            await Eventually.True(async () =>
            {
                using var document = JsonDocument.Parse(await http.GetStringAsync($"{status}/api/status"));
                var snapshot = document.RootElement.GetProperty("snapshot");
                return snapshot.GetProperty("kafka").GetProperty("up").GetBoolean()
                    && snapshot.GetProperty("processes").EnumerateArray().Any(p => p.GetProperty("name").GetString() == "edge" && p.GetProperty("state").GetString() == "up");
            }, TimeSpan.FromSeconds(60), "the page sees the local run's Kafka and edge");
            // The edge of the local run (up, as the page says: it is started beside the page) takes OTLP on the OTLP listener.
            using var otlp = await http.PostAsync($"http://127.0.0.1:{otlpPort}/v1/logs",
                new StringContent("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"hello over otlp"}}]}]}]}""",
                    System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.OK, otlp.StatusCode);
            await local.StopAsync();
            Assert.Equal(0, local.ExitCode);
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }
}
