using System.Globalization;
using Microsoft.Playwright;
using Pipeline.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Status;

/// <summary>
/// The status page as a person uses it: opened in Debian's Chromium over a running pipeline, watched while
/// events flow, while a consumer group is stopped, while one host floods, and with the live tail filtered.
/// Screenshots of each land in TestResults/screenshots.
/// </summary>
[Collection(LivePipeline.Collection)]
public sealed class StatusPageTests(LivePipeline live, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [EmbeddedKafkaFact("reads the pipeline's own topic and group names (syslog, noc_team, files) on a cluster of its own")]
    public async Task ThePageLoadsWithThePipelineRunningAndShowsEveryProcessUpWithNothingFetchedFromElsewhere()
    {
        var page = await live.Browser.Context.NewPageAsync();
        await using var closing = ClosedAtTheEnd(page);
        var requested = new List<string>();
        page.Request += (_, request) => requested.Add(request.Url);
        await page.GotoAsync(live.StatusUrl.ToString());
        await WaitAsync(page, "document.body.dataset.loaded === 'true'");
        foreach (var process in new[] { "edge", "noc", "topk", "files" })
            await WaitAsync(page, $"document.querySelector('#processes [data-process=\"{process}\"]')?.dataset.state === 'up'");
        await WaitAsync(page, "document.querySelector('#kafka').dataset.state === 'up'");
        foreach (var group in new[] { "noc_team", "topk", "files" })
            await WaitAsync(page, $"document.querySelector('#group-rows tr[data-group=\"{group}\"]')?.dataset.state === 'up'");
        foreach (var topic in new[] { "syslog", "events", "metrics" })
            await WaitAsync(page, $"document.querySelector('#flow-topics [data-topic=\"{topic}\"]') !== null");
        await WaitAsync(page, "document.querySelector('#tail').dataset.state === 'live'");

        // Every asset ships with the binary: the page asked nothing of any other host.
        Assert.NotEmpty(requested);
        Assert.All(requested, url => Assert.Equal(live.StatusUrl.Authority, new Uri(url).Authority));

        // First paint and the first numbers, over a few loads (recorded for BENCHMARKS.md, not asserted: timings belong to benchmarks).
        var paints = new List<(double Paint, double Numbers)>();
        for (var load = 0; load < 5; load++)
        {
            if (load > 0) await page.ReloadAsync();
            await WaitAsync(page, "document.body.dataset.loaded === 'true'");
            // Chromium records the paint entry once the frame is presented, which can come after the numbers are in.
            await WaitAsync(page, "performance.getEntriesByName('first-contentful-paint').length > 0");
            var paint = await page.EvaluateAsync<double>("() => performance.getEntriesByName('first-contentful-paint')[0].startTime");
            paints.Add((paint, await page.EvaluateAsync<double>("() => performance.getEntriesByName('first-numbers')[0].startTime")));
        }
        var timings = string.Join('\n', paints.Select((p, i) => string.Create(CultureInfo.InvariantCulture, $"load {i + 1}: first contentful paint {p.Paint:0} ms, numbers shown by {p.Numbers:0} ms")));
        output.WriteLine(timings);
        Directory.CreateDirectory(HeadlessChromium.Screenshots);
        await File.WriteAllTextAsync(Path.Combine(HeadlessChromium.Screenshots, "status-page-timings.txt"), timings + "\n");
        output.WriteLine(await HeadlessChromium.ScreenshotAsync(page, "status-page-loaded"));
    }

    [EmbeddedKafkaFact("reads the pipeline's own topic and group names (syslog, noc_team, files) on a cluster of its own")]
    public async Task NumbersMoveWhileEventsFlow()
    {
        var page = await OpenAsync();
        await using var closing = ClosedAtTheEnd(page);
        var received = await NumberAsync(page, "#edge-received-total");
        var written = await NumberAsync(page, "#group-rows tr[data-group=\"noc_team\"] td.written");
        var syslogRecords = (await live.StatusAsync()).GetProperty("topics").EnumerateArray().First(t => t.GetProperty("name").GetString() == "syslog").GetProperty("end_offset").GetInt64();

        Assert.Equal(300, await live.SendAsync(300, n => ("flow-host", "flowapp", 6, $"flowing {n}")));

        await WaitAsync(page, $"Number(document.querySelector('#edge-received-total').dataset.value) >= {received + 300}");
        await WaitAsync(page, $"Number(document.querySelector('#group-rows tr[data-group=\"noc_team\"] td.written').dataset.value) >= {written + 300}");
        await WaitAsync(page, $"document.querySelector('#flow-topics [data-topic=\"syslog\"] .sub').textContent.length > 0");
        // Kafka is read on its own schedule: the topic's end offset follows within an interval or two.
        await Eventually.Until(async () => (await live.StatusAsync()).GetProperty("topics").EnumerateArray().First(t => t.GetProperty("name").GetString() == "syslog").GetProperty("end_offset").GetInt64(),
            end => end >= syslogRecords + 300, Patience, $"the syslog topic's end offset passes {syslogRecords + 300}");
        output.WriteLine(await HeadlessChromium.ScreenshotAsync(page, "status-page-numbers-move"));
    }

    [EmbeddedKafkaFact("reads the pipeline's own topic and group names (syslog, noc_team, files) on a cluster of its own")]
    public async Task StoppingAConsumerGroupShowsItsLagGrowingAndMarksItDownWhileTheRestStaysLive()
    {
        var page = await OpenAsync();
        await using var closing = ClosedAtTheEnd(page);
        const string row = "#group-rows tr[data-group=\"scratch_team\"]";
        await WaitAsync(page, $"document.querySelector('{row}')?.dataset.state === 'up'");

        await live.Scratch.StopAsync();
        await WaitAsync(page, $"document.querySelector('{row}')?.dataset.state === 'down'");
        await WaitAsync(page, "document.querySelector('#processes [data-process=\"scratch\"]')?.dataset.state === 'down'");
        await WaitAsync(page, $"document.querySelector('{row} td.lag').dataset.value !== ''");
        var lagBefore = await NumberAsync(page, $"{row} td.lag");
        var received = await NumberAsync(page, "#edge-received-total");

        Assert.Equal(250, await live.SendAsync(250, n => ("lag-host", "lagapp", 6, $"while scratch_team is down {n}")));

        // Its lag grows by what was sent, in records and in time; the edge and the other groups go on showing live numbers.
        await WaitAsync(page, $"Number(document.querySelector('{row} td.lag').dataset.value) >= {lagBefore + 250}");
        await WaitAsync(page, $"Number(document.querySelector('{row} td.lag-time').dataset.value) > 0");
        var lagTime = await NumberAsync(page, $"{row} td.lag-time");
        await WaitAsync(page, $"Number(document.querySelector('{row} td.lag-time').dataset.value) > {lagTime.ToString(CultureInfo.InvariantCulture)}");
        await WaitAsync(page, $"Number(document.querySelector('#edge-received-total').dataset.value) >= {received + 250}");
        await WaitAsync(page, "document.querySelector('#group-rows tr[data-group=\"files\"]')?.dataset.state === 'up'");
        Assert.Equal("up", await page.EvalOnSelectorAsync<string>("#processes [data-process=\"edge\"]", "e => e.dataset.state"));
        output.WriteLine(await HeadlessChromium.ScreenshotAsync(page, "status-page-group-down"));
    }

    [EmbeddedKafkaFact("reads the pipeline's own topic and group names (syslog, noc_team, files) on a cluster of its own")]
    public async Task TheNoisiestPanelNamesTheHostThatSendsTheMost()
    {
        var page = await OpenAsync();
        await using var closing = ClosedAtTheEnd(page);
        await WaitAsync(page, "document.querySelector('#tail').dataset.state === 'live'");
        // One host sends far more than any other, interleaved with five quieter ones, paced so the page shows the flow as it happens.
        var sending = live.SendAsync(3000, n => n % 2 == 0
            ? ("chatty-db-7", "postgres", 4, $"checkpoint took too long {n}")
            : ($"quiet-{n % 5}", "cron", 6, $"job {n} done"), perSecond: 400);

        await WaitAsync(page, "document.querySelector('#noisiest-host li .key')?.textContent === 'chatty-db-7'", TimeSpan.FromSeconds(90));
        var keys = await page.Locator("#noisiest-host li .key").AllTextContentsAsync();
        Assert.Contains("quiet-1", keys);
        await WaitAsync(page, "document.querySelector('#noisiest-app li .key') !== null");
        await WaitAsync(page, "document.querySelectorAll('#tail-lines li').length >= 20");
        // The picture in docs/ops.md comes from here.
        output.WriteLine(await HeadlessChromium.ScreenshotAsync(page, "status-page"));
        Assert.Equal(3000, await sending);

        // The hour's window holds the same flood.
        await page.ClickAsync("#noisiest .toggle button[data-window='1h']");
        await WaitAsync(page, "document.querySelector(\"#noisiest .toggle button[data-window='1h']\").getAttribute('aria-pressed') === 'true'");
        await WaitAsync(page, "document.querySelector('#noisiest-host li .key')?.textContent === 'chatty-db-7'");
    }

    [EmbeddedKafkaFact("reads the pipeline's own topic and group names (syslog, noc_team, files) on a cluster of its own")]
    public async Task ATailFilterShowsOnlyMatchingLines()
    {
        var page = await OpenAsync();
        await using var closing = ClosedAtTheEnd(page);
        await page.FillAsync("#tail-filter input[name=host]", "tail-b*");
        await page.SelectOptionAsync("#tail-filter select[name=severity]", "err");
        await page.ClickAsync("#tail-filter button[type=submit]");
        await WaitAsync(page, "document.querySelector('#tail').dataset.state === 'live'");

        await SendUntilAsync(page, 6, round => (round % 4) switch
        {
            0 => ("tail-a", "sshd", 3, $"Failed password for root from 203.0.113.9 port {round} ssh2"),
            1 => ("tail-b1", "sshd", 3, $"Failed password for admin from 198.51.100.4 port {round} ssh2"),
            2 => ("tail-b2", "nginx", 6, $"GET /health 200 {round}"),
            _ => ("tail-c", "kernel", 2, $"I/O error, dev sda, sector {round}"),
        });
        var lines = await page.Locator("#tail-lines li").EvaluateAllAsync<string[][]>("items => items.map(i => [i.dataset.host, i.dataset.severity, i.textContent])");
        Assert.NotEmpty(lines);
        Assert.All(lines, line =>
        {
            Assert.Equal("tail-b1", line[0]);
            Assert.True(int.Parse(line[1], CultureInfo.InvariantCulture) <= 3, string.Join(" | ", line));
            Assert.Contains("Failed password for admin", line[2], StringComparison.Ordinal);
        });
        output.WriteLine(await HeadlessChromium.ScreenshotAsync(page, "status-page-tail-host"));

        // Text alone: any host, any severity, only lines that contain it (case-insensitive).
        await page.FillAsync("#tail-filter input[name=host]", "");
        await page.SelectOptionAsync("#tail-filter select[name=severity]", "");
        await page.FillAsync("#tail-filter input[name=text]", "NEEDLE");
        await page.ClickAsync("#tail-filter button[type=submit]");
        await WaitAsync(page, "document.querySelector('#tail').dataset.state === 'live'");
        await SendUntilAsync(page, 4, round => round % 2 == 0 ? ("hay-1", "app", 6, $"plain hay {round}") : ("hay-2", "app", 6, $"a needle in hay {round}"));
        var texts = await page.Locator("#tail-lines li").AllTextContentsAsync();
        Assert.NotEmpty(texts);
        Assert.All(texts, text => Assert.Contains("a needle in hay", text, StringComparison.Ordinal));
    }

    [EmbeddedKafkaFact("reads the pipeline's own topic and group names (syslog, noc_team, files) on a cluster of its own")]
    public async Task AHiddenTabClosesItsLiveTailAndReopensItWhenShownAgain()
    {
        var page = await OpenAsync();
        await using var closing = ClosedAtTheEnd(page);
        await WaitAsync(page, "document.querySelector('#tail').dataset.state === 'live'");
        // Every other test closes its page, so this page's tail is the only one open.
        await Eventually.True(async () => await TailsOpenAsync() == 1, Patience, "the page's tail is open on the server");

        await SetHiddenAsync(page, true);
        await WaitAsync(page, "document.querySelector('#tail').dataset.state === 'paused'");
        await Eventually.True(async () => await TailsOpenAsync() == 0, Patience, "the hidden tab's tail is closed on the server");

        await SetHiddenAsync(page, false);
        await WaitAsync(page, "document.querySelector('#tail').dataset.state === 'live'");
        await Eventually.True(async () => await TailsOpenAsync() == 1, Patience, "the shown tab's tail is open again");
    }

    private async Task<IPage> OpenAsync()
    {
        var page = await live.Browser.Context.NewPageAsync();
        await page.GotoAsync(live.StatusUrl.ToString());
        await WaitAsync(page, "document.body.dataset.loaded === 'true'");
        return page;
    }

    /// <summary>Sends a line at a time (bounded: at most 200 rounds) until the tail shows <paramref name="shown"/> lines.</summary>
    private async Task SendUntilAsync(IPage page, int shown, Func<int, (string, string, int, string)> line)
    {
        for (var round = 0; round < 200; round++)
        {
            await live.SendAsync(4, n => line(round * 4 + n));
            if (await page.Locator("#tail-lines li").CountAsync() >= shown) return;
            await page.WaitForTimeoutAsync(100);
        }
        throw new TimeoutException($"the tail did not show {shown} lines: {string.Join('\n', await page.Locator("#tail-lines li").AllTextContentsAsync())}");
    }

    /// <summary>Closes the page however the test ends, so a failed test leaves no live tail behind for the next one.</summary>
    private static IAsyncDisposable ClosedAtTheEnd(IPage page) => new PageCloser(page);

    private sealed class PageCloser(IPage page) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await page.CloseAsync();
    }

    private async Task<int> TailsOpenAsync() => (await live.StatusAsync()).GetProperty("tails_open").GetInt32();

    private static Task SetHiddenAsync(IPage page, bool hidden) => page.EvaluateAsync(
        @"hidden => {
            Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
            Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => hidden ? 'hidden' : 'visible' });
            document.dispatchEvent(new Event('visibilitychange'));
        }", hidden);

    private static async Task<double> NumberAsync(IPage page, string selector)
    {
        var text = await page.EvalOnSelectorAsync<string>(selector, "e => e.dataset.value");
        return string.IsNullOrEmpty(text) ? 0 : double.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until <paramref name="condition"/> (JavaScript) holds on the page, polling; fails with the page's state after the deadline.</summary>
    private static async Task WaitAsync(IPage page, string condition, TimeSpan? timeout = null)
    {
        try
        {
            await page.WaitForFunctionAsync($"() => {condition}", null, new PageWaitForFunctionOptions { Timeout = (float)(timeout ?? Patience).TotalMilliseconds, PollingInterval = 200 });
        }
        catch (TimeoutException)
        {
            var shown = await page.EvaluateAsync<string>("() => document.querySelector('main').innerText");
            throw new TimeoutException($"not reached: {condition}\n--- the page shows:\n{shown}");
        }
    }
}
