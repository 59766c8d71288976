using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

/// <summary>
/// <c>POST /v1/events</c> and <c>/v1/syslog</c> when the memory buffer is full: a request waits while Kafka only
/// acknowledges slower than events come (no disk), and is answered 503 naming the line to resend from only when the
/// buffers are full for good.
/// </summary>
public sealed class HttpBufferFullTests
{
    private static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient http, string url, string body, string contentType)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await http.PostAsync(url, content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Ndjson(int from, int count) =>
        string.Join('\n', Enumerable.Range(from, count).Select(n => $$"""{"seq":{{n}},"host":"h{{n % 7}}","message":"event {{n}}"}"""));

    [EmbeddedKafkaFact("slows the brokers")]
    public async Task WhileKafkaAcknowledgesSlowerThanEventsComeARequestWaitsForRoomRatherThanGoingThroughTheSpool()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        // Kafka keeps acknowledging, far slower than a request's events come.
        var edge = await SlowKafka.StartEdgeAsync(pipeline);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };

        var answers = new List<(int Status, JsonElement Body, int Sent)>();
        for (var request = 0; request < 4; request++)
        {
            var (status, body) = await PostAsync(http, $"{edge.HttpUrl}/v1/events", Ndjson(request * 2000, 2000), "application/x-ndjson");
            answers.Add((status, body, 2000));
        }
        var array = "[" + string.Join(',', Enumerable.Range(8000, 1000).Select(n => $$"""{"seq":{{n}},"host":"h"}""")) + "]";
        var (arrayStatus, arrayBody) = await PostAsync(http, $"{edge.HttpUrl}/v1/events", array, "application/json");
        answers.Add((arrayStatus, arrayBody, 1000));
        var lines = string.Join('\n', Enumerable.Range(0, 1000).Select(n => $"<14>1 2026-12-06T10:00:00Z host app - - - line {n}"));
        var (syslogStatus, syslogBody) = await PostAsync(http, $"{edge.HttpUrl}/v1/syslog", lines, "text/plain");
        answers.Add((syslogStatus, syslogBody, 1000));

        Assert.All(answers, a =>
        {
            Assert.Equal(200, a.Status);
            Assert.Equal(a.Sent, a.Body.GetProperty("accepted").GetInt32());
            Assert.False(a.Body.TryGetProperty("resume_from_line", out _), a.Body.ToString());
        });
        var metrics = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m => m.Sum("edge_events_published_total") >= 10_000,
            TimeSpan.FromMinutes(2), "all published");
        Assert.True(metrics.Sum("edge_http_backpressure_waits_total") > 0, "the requests should have waited for room");
        SlowKafka.AssertNothingSpooledOrDropped(metrics);
        // Each event once: a request that waited went on from the line it stopped at, not from its start.
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 9000, TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, 9000), events.Select(e => e.Payload!.Value.GetProperty("seq").GetInt32()).Order());
        Assert.Equal(9000, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), pipeline.Partitions("events")));
        Assert.Equal(1000, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), pipeline.Partitions("syslog")));
    }

    [EmbeddedKafkaFact("takes the brokers down")]
    public async Task WithKafkaDownAndTheSpoolFullTheAnswerIs503NamingTheLineToResendFromAndEveryLineTakenArrives()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Memory:MaxEvents=100", "--Edge:Spool:MaxBytes=1048576", "--Edge:Spool:SegmentBytes=65536"]);
        pipeline.Kafka.SetAllBrokersDown();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var padding = new string('x', 900);
        var taken = new List<int>();
        JsonElement? busy = null;
        // 200 events of about 1 KiB a request: the 1 MiB spool fills within a few requests.
        for (var request = 0; request < 40 && busy is null; request++)
        {
            var seqs = Enumerable.Range(request * 200, 200).ToArray();
            var body = string.Join('\n', seqs.Select(n => $$"""{"seq":{{n}},"pad":"{{padding}}"}"""));
            var (status, answer) = await PostAsync(http, $"{edge.HttpUrl}/v1/events", body, "application/x-ndjson");
            if (status == 503)
            {
                busy = answer;
                var resume = answer.GetProperty("resume_from_line").GetInt32();
                Assert.Equal(resume - 1, answer.GetProperty("accepted").GetInt32());
                taken.AddRange(seqs[..(resume - 1)]);
            }
            else
            {
                Assert.Equal(200, status);
                Assert.Equal(200, answer.GetProperty("accepted").GetInt32());
                taken.AddRange(seqs);
            }
        }
        Assert.NotNull(busy);
        Assert.Contains("buffers are full", busy.Value.GetProperty("error").GetString());

        pipeline.Kafka.SetAllBrokersUp();
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), taken.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(taken.Order(), events.Select(e => e.Payload!.Value.GetProperty("seq").GetInt32()).Order());
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        var (left, right) = metrics.Ledger("http", "default");
        Assert.Equal(left, right);
    }
}
