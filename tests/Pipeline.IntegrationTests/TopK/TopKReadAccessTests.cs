using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.TopK;

/// <summary>GET /topk is a read API: with read tokens it answers only a caller presenting one; beyond loopback it needs them.</summary>
public sealed class TopKReadAccessTests
{
    private const string ReadToken = "topk-read-s3cret";

    [Fact]
    public async Task TopKBoundBeyondLoopbackWithoutAReadTokenRefusesToStart()
    {
        // Refused while reading its configuration: nothing is bound, nothing beyond this host is ever reached.
        await using var topk = PipelineProcess.Start("consumers/Pipeline.Consumers.TopK",
            ["--kafka", "127.0.0.1:1", "--http", $"0.0.0.0:{FreePort.Next()}", "--postgres", "Host=127.0.0.1;Port=1;Username=nobody"]);
        await Eventually.True(() => topk.HasExited, TimeSpan.FromSeconds(30), "topk to exit");
        Assert.Equal(2, topk.ExitCode);
        Assert.Contains("Http:ReadTokens", topk.Output, StringComparison.Ordinal);
    }

    [KafkaFact]
    public async Task WithAReadTokenTopKAnswersOnlyACallerPresentingItAsBearerOrBasicAndMetricsAndHealthStayOpen()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var topic = "topk-in-" + Guid.NewGuid().ToString("N")[..8];
        pipeline.Kafka.CreateTopic(topic, 1);
        var topk = await pipeline.StartConsumerAsync("consumers/Pipeline.Consumers.TopK",
            ["--topics", topic, "--group", "topk-" + Guid.NewGuid().ToString("N")[..8], "--postgres", db.ConnectionString],
            new Dictionary<string, string> { ["Http__ReadTokens__0__Token"] = ReadToken });
        var query = new Uri(new Uri(topk.HealthUrl!), "/topk?dimension=host");

        using var http = new HttpClient();
        using (var anonymous = await http.GetAsync(query))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal(["Bearer", "Basic"], anonymous.Headers.WwwAuthenticate.Select(h => h.Scheme));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, query, new AuthenticationHeaderValue("Bearer", "not-the-token")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, query, new AuthenticationHeaderValue("Bearer", ReadToken)));
        // What a browser sends once it has asked for the token (any user name).
        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, query, new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:" + ReadToken)))));
        Assert.Contains("consumer_records_total", await topk.GetAsync("/metrics"), StringComparison.Ordinal);
        Assert.DoesNotContain(ReadToken, topk.Output, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> GetAsync(HttpClient http, Uri uri, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = authorization;
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
