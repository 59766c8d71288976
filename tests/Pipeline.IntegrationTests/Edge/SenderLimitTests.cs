using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

/// <summary>
/// Limits per sender: requests per token and per source address (429 + Retry-After, counted by reason), connections
/// per source address on TCP syslog, and deadlines for HTTP senders that trickle their headers or body.
/// </summary>
public sealed class SenderLimitTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [KafkaFact]
    public async Task ATokenOverItsRateIsAnswered429WithRetryAfterAndCountedWhileAnotherTokenGoesOn()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync([
            .. TestTenant.EdgeArgs, "--Edge:Http:Tokens:1:Tenant=beta", "--Edge:Http:Tokens:1:Token=s3cret-beta",
            "--Edge:Http:RateLimits:PerToken:Requests=2", "--Edge:Http:RateLimits:PerToken:Period=00:01:00"]);

        var acme = new List<HttpResponseMessage>();
        for (var n = 1; n <= 3; n++) acme.Add(await PostAsync(edge, TestTenant.Token, $"acme {n}"));
        using var beta = await PostAsync(edge, "s3cret-beta", "beta 1");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], acme.Select(r => r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, beta.StatusCode);
        // One token every minute: the next comes in a minute.
        Assert.Equal(TimeSpan.FromSeconds(60), acme[2].Headers.RetryAfter?.Delta);
        Assert.Contains("too many requests from this token", await acme[2].Content.ReadAsStringAsync(), StringComparison.Ordinal);
        acme.ForEach(r => r.Dispose());

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 3, TimeSpan.FromSeconds(30));
        Assert.Equal(["acme 1", "acme 2", "beta 1"], events.Select(e => e.Message!).Order());
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(1, metrics.Sum("edge_http_rate_limited_total", ("listener", "http"), ("reason", "token")));
        Assert.Equal(0, metrics.Sum("edge_http_rate_limited_total", ("reason", "address")));
    }

    [KafkaFact]
    public async Task AnAddressOverItsRateIsAnswered429WhateverItsTokenAndMetricsAndHealthAreNeverLimited()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync([
            .. TestTenant.EdgeArgs, "--Edge:Http:Tokens:1:Tenant=beta", "--Edge:Http:Tokens:1:Token=s3cret-beta",
            "--Edge:Http:RateLimits:PerAddress:Requests=2", "--Edge:Http:RateLimits:PerAddress:Period=00:01:00"]);

        using var first = await PostAsync(edge, TestTenant.Token, "one");
        using var second = await PostAsync(edge, "s3cret-beta", "two");
        using var third = await PostAsync(edge, TestTenant.Token, "three");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests), (first.StatusCode, second.StatusCode, third.StatusCode));
        Assert.True(third.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        for (var n = 0; n < 5; n++) Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync(edge.HttpUrl + "/healthz")).StatusCode);
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(1, metrics.Sum("edge_http_rate_limited_total", ("reason", "address")));
        Assert.Equal(2, TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 2, TimeSpan.FromSeconds(30)).Count);
    }

    [KafkaFact]
    public async Task OneAddressHoldsOnlyAsManySyslogConnectionsAsItMayAndOneMoreIsRefusedAndCountedUntilOneCloses()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Listeners:syslog-tcp:MaxConnectionsPerAddress=3"]);
        var held = new List<TcpClient>();
        try
        {
            for (var n = 0; n < 3; n++)
            {
                var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", edge.SyslogPort);
                held.Add(client);
            }
            await Eventually.True(async () => (await MetricsText.ScrapeAsync(edge.Process)).Sum("edge_tcp_connections_open", ("listener", "syslog-tcp")) == 3,
                TimeSpan.FromSeconds(20), "three connections open");

            using (var fourth = new TcpClient())
            {
                await fourth.ConnectAsync("127.0.0.1", edge.SyslogPort);
                Assert.True(await ClosedByServerAsync(fourth), "the fourth connection from one address was not closed");
            }
            var metrics = await MetricsText.ScrapeAsync(edge.Process);
            Assert.Equal(1, metrics.Sum("edge_tcp_connections_refused_total", ("listener", "syslog-tcp"), ("reason", "address_limit")));
            Assert.Equal(3, metrics.Sum("edge_tcp_connections_open", ("listener", "syslog-tcp")));

            // One closes: the address may connect again, and what it sends arrives.
            held[0].Dispose();
            await Eventually.True(async () => (await MetricsText.ScrapeAsync(edge.Process)).Sum("edge_tcp_connections_open", ("listener", "syslog-tcp")) == 2,
                TimeSpan.FromSeconds(20), "the closed connection given back");
            using (var again = new TcpClient())
            {
                await again.ConnectAsync("127.0.0.1", edge.SyslogPort);
                await again.GetStream().WriteAsync(Encoding.ASCII.GetBytes(SyslogSender.Line("after-close", 1) + "\n"));
            }
            var e = Assert.Single(TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), 1, TimeSpan.FromSeconds(30)));
            Assert.Equal("after-close seq=1", e.Message);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    [KafkaFact]
    public async Task AnHttpSenderTricklingItsHeadersOrItsBodyIsCutOffAfterItsDeadline()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Http:RequestHeadersTimeout=00:00:02",
            "--Edge:Http:MinRequestBodyBytesPerSecond=1000", "--Edge:Http:MinRequestBodyGracePeriod=00:00:02"]);

        var headers = await CutOffAfterAsync(edge.HttpPort, "POST /v1/events HTTP/1.1\r\nHost: edge\r\n");
        var body = await CutOffAfterAsync(edge.HttpPort,
            "POST /v1/events HTTP/1.1\r\nHost: edge\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n{\"msg\":");

        // Not before the deadline (two seconds), and not much after it (Kestrel checks once a second).
        Assert.InRange(headers.TotalSeconds, 1.5, 15);
        Assert.InRange(body.TotalSeconds, 1.5, 15);
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(0, metrics.Sum("edge_events_received_total"));
        // A slow sender is an ordinary event at an edge: no error, no stack trace.
        Assert.DoesNotContain("exception", edge.Process.Output, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<HttpResponseMessage> PostAsync(EdgeProcess edge, string token, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, edge.HttpUrl + "/v1/events")
        {
            Content = new StringContent($$"""{"msg":"{{message}}"}""", Encoding.UTF8, "application/x-ndjson"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Http.SendAsync(request);
    }

    /// <summary>Sends <paramref name="start"/> and nothing more; returns how long the edge took to close the connection.</summary>
    private static async Task<TimeSpan> CutOffAfterAsync(int port, string start)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var clock = Stopwatch.StartNew();
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(start));
        Assert.True(await ClosedByServerAsync(client), "the edge did not close the connection of a sender that stopped halfway");
        return clock.Elapsed;
    }

    /// <summary>True once the server has closed the connection (end of stream or reset), false if it is still open after 20 s.</summary>
    private static async Task<bool> ClosedByServerAsync(TcpClient client)
    {
        var buffer = new byte[4096];
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (await client.GetStream().ReadAsync(buffer, patience.Token) > 0)
            {
                // A 408 may come first; the close is what counts.
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
