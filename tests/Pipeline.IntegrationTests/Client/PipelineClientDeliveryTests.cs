using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Client;
using Pipeline.Client.Logging;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Client;

public sealed class PipelineClientDeliveryTests
{
    [Theory]
    [InlineData(PipelineTransport.WebSocket)]
    [InlineData(PipelineTransport.Http)]
    public async Task LogsEventsAndMetricsArriveInKafkaWithTheirFieldsTheTokensTenantAndTheIdsTheClientMinted(PipelineTransport transport)
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(TestTenant.EdgeArgs);
        await using var client = new PipelineClient(new PipelineClientOptions
        {
            Endpoint = new Uri(edge.HttpUrl), Transport = transport, Token = "s3cret-acme", App = "shop", Host = "web-3",
        });
        using (var logging = LoggerFactory.Create(b => b.AddProvider(new PipelineLoggerProvider(client))))
        {
            var logger = logging.CreateLogger("Shop.Orders");
            var scope = new Dictionary<string, object?> { ["RequestId"] = "r-17" };
            using (logger.BeginScope(scope)) ShopLog.OrderFailed(logger, 42, 3);
        }
        var pages = client.NewEvent("example.profile.pages").Add("file_size", 48_213).Add("file_extension", "pdf");
        pages.Add("page_count", 19).Send();
        client.Counter("pdf_pages", 19);
        using (client.Time("profile_image_convert_time"))
        {
        }
        Assert.True(await client.FlushAsync(TimeSpan.FromSeconds(30)), "the edge answered for everything");

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 2, TimeSpan.FromSeconds(30));
        var metrics = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "metrics", 2, TimeSpan.FromSeconds(30));
        var log = Assert.Single(events, e => e.Kind == "log");
        Assert.Equal(("Order 42 failed after 3 attempts", "acme", "shop"), (log.Message, log.Tenant, log.Payload!.Value.GetProperty("app").GetString()));
        var fields = log.Payload.Value.GetProperty("fields");
        Assert.Equal((42, 3, "r-17"), (fields.GetProperty("OrderId").GetInt32(), fields.GetProperty("Attempts").GetInt32(), fields.GetProperty("RequestId").GetString()));
        var page = Assert.Single(events, e => e.Kind == "event").Payload!.Value;
        Assert.Equal(("example.profile.pages", 1), (page.GetProperty("dataset").GetString(), page.GetProperty("sample_rate").GetInt32()));
        Assert.Equal(19, page.GetProperty("fields").GetProperty("page_count").GetInt32());
        Assert.True(page.GetProperty("dur_ms").GetDouble() >= 0);
        Assert.Equal([("pdf_pages", "counter"), ("profile_image_convert_time", "timer")], metrics.Select(m => (m.Metric!.Name, m.Metric.Type)).Order());
        // The envelope's id is the one the client minted, so an event it had to send again is stored once downstream.
        Assert.All(events.Concat(metrics), e => Assert.Equal(e.Payload!.Value.GetProperty("id").GetString(), e.Id));
        var keys = TopicReader.Read(pipeline.Kafka.BootstrapServers, "events", 2, TimeSpan.FromSeconds(30));
        Assert.All(keys, r => Assert.Equal("web-3", Encoding.UTF8.GetString(r.Message.Key!)));
        Assert.Equal((4, 0L), (client.Stats.Stored, client.Stats.DroppedTotal));
    }

    [Fact]
    public async Task ASampledDatasetArrivesOneInItsRateAndEveryKeptEventStandsForThatManyInTheEnvelope()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        var options = new PipelineClientOptions { Endpoint = new Uri(edge.HttpUrl) };
        options.DatasetSampleRates["example.profile.pages"] = 4;
        await using var client = new PipelineClient(options);
        for (var i = 0; i < 400; i++) client.NewEvent("example.profile.pages").Add("n", i).Send();
        Assert.True(await client.FlushAsync(TimeSpan.FromSeconds(30)));

        var kept = client.Stats.Stored;
        Assert.Equal(400, kept + client.Stats.SampledOut);
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", (int)kept, TimeSpan.FromSeconds(30));
        Assert.Equal(kept, events.Count);
        Assert.Equal(kept, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, "events", 6));
        Assert.All(events, e =>
        {
            Assert.Equal(4, e.SampleRate);
            Assert.Equal(4, e.Payload!.Value.GetProperty("sample_rate").GetInt32());
        });
    }

    [Fact]
    public async Task ASendersIdIsKeptOnlyWhenItIsAUlidAndTheSameEventSentTwiceHasOneId()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        using var http = new HttpClient();
        const string body = """
            {"id":"01arz3ndektsv4rrffq69g5fav","msg":"a ULID, lower case"}
            {"id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","msg":"the same event again"}
            {"id":"not-a-ulid","msg":"an id of the sender's own kind"}
            {"id":"81ARZ3NDEKTSV4RRFFQ69G5FAV","msg":"too large for 128 bits"}
            """;
        using var response = await http.PostAsync($"{edge.HttpUrl}/v1/events", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        Assert.True(response.IsSuccessStatusCode);

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 4, TimeSpan.FromSeconds(30)).ToDictionary(e => e.Message!);
        Assert.Equal("01ARZ3NDEKTSV4RRFFQ69G5FAV", events["a ULID, lower case"].Id);
        Assert.Equal("01ARZ3NDEKTSV4RRFFQ69G5FAV", events["the same event again"].Id);
        Assert.NotEqual("not-a-ulid", events["an id of the sender's own kind"].Id);
        Assert.Equal(26, events["an id of the sender's own kind"].Id.Length);
        Assert.NotEqual("81ARZ3NDEKTSV4RRFFQ69G5FAV", events["too large for 128 bits"].Id);
    }
}
