using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Status;

/// <summary>The status page shows events themselves (its live tail): a read API, which beyond loopback needs a token.</summary>
public sealed class StatusPageAccessTests
{
    private const string Token = "status-read-s3cret";

    [Fact]
    public async Task TheStatusPageBeyondLoopbackWithoutATokenRefusesToStart()
    {
        // Refused before anything is bound.
        await using var status = PipelineProcess.Start("infra/Pipeline.Ops", ["status", "--http", $"0.0.0.0:{FreePort.Next()}", "--kafka", "127.0.0.1:1", "--edge", "none"],
            new Dictionary<string, string> { ["PIPELINE_STATUS_TOKEN"] = "" });
        await Eventually.True(() => status.HasExited, TimeSpan.FromSeconds(30), "ops status to exit");
        Assert.NotEqual(0, status.ExitCode);
        Assert.Contains("PIPELINE_STATUS_TOKEN", status.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithATokenThePageAndItsApiAnswerOnlyACallerPresentingItAndItsHealthStaysOpen()
    {
        var port = FreePort.Next();
        await using var status = PipelineProcess.Start("infra/Pipeline.Ops", ["status", "--http", $"127.0.0.1:{port}", "--kafka", "127.0.0.1:1", "--edge", "none"],
            new Dictionary<string, string> { ["PIPELINE_STATUS_TOKEN"] = Token }, $"http://127.0.0.1:{port}/healthz");
        await status.WaitHealthyAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using (var anonymous = await http.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            // A browser asks for the token as a password, then sends it with every request of the page (fetch, EventSource).
            Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/status")).StatusCode);
        using (var page = new HttpRequestMessage(HttpMethod.Get, "/"))
        {
            page.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("me:" + Token)));
            using var response = await http.SendAsync(page);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
        using (var api = new HttpRequestMessage(HttpMethod.Get, "/api/status"))
        {
            api.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(api)).StatusCode);
        }
        await status.StopAsync();
        Assert.DoesNotContain(Token, status.Output, StringComparison.Ordinal);
    }
}
