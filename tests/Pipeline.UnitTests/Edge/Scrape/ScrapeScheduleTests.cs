using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Edge.Sources.Scrape;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.UnitTests.Edge.Scrape;

public sealed class ScrapeScheduleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public void TheFirstScrapeWaitsForTheTargetsPhaseWithinTheInterval()
    {
        var start = new DateTimeOffset(2026, 3, 14, 12, 0, 0, TimeSpan.Zero); // a whole multiple of 10 s since the epoch
        var offset = TimeSpan.FromSeconds(3);

        Assert.Equal(TimeSpan.FromSeconds(3), ScrapeLoop.FirstDelay(start, Interval, offset));
        Assert.Equal(TimeSpan.FromSeconds(1), ScrapeLoop.FirstDelay(start.AddSeconds(2), Interval, offset));
        Assert.Equal(TimeSpan.Zero, ScrapeLoop.FirstDelay(start.AddSeconds(3), Interval, offset));
        Assert.Equal(TimeSpan.FromSeconds(9), ScrapeLoop.FirstDelay(start.AddSeconds(4), Interval, offset));
    }

    [Fact]
    public void AScrapeThatOverrunsSkipsTheSlotsItMissedInsteadOfFiringAtOnce()
    {
        var started = new DateTimeOffset(2026, 3, 14, 12, 0, 3, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(9), ScrapeLoop.NextDelay(started, started.AddSeconds(1), Interval));
        Assert.Equal(TimeSpan.FromSeconds(5), ScrapeLoop.NextDelay(started, started.AddSeconds(15), Interval));
        Assert.Equal(TimeSpan.FromSeconds(10), ScrapeLoop.NextDelay(started, started.AddSeconds(20), Interval));
    }

    [Fact]
    public void ManyTargetsAreSpreadOverTheIntervalAndTwoEdgesPutTheSameTargetAtDifferentPhases()
    {
        var targets = Enumerable.Range(0, 1000).Select(i => MetricEnvelopeTests.Target($"http://10.0.{i / 250}.{i % 250}:9100/metrics")).ToList();

        // Ten one-second slots of the 10 s interval: each should hold about a tenth of the targets.
        var perSlot = targets.GroupBy(t => (int)ScrapeLoop.Offset(t, "edge-1").TotalSeconds).Select(g => g.Count()).ToList();
        Assert.Equal(10, perSlot.Count);
        Assert.All(perSlot, n => Assert.InRange(n, 60, 140));
        Assert.All(targets, t => Assert.InRange(ScrapeLoop.Offset(t, "edge-1"), TimeSpan.Zero, Interval - TimeSpan.FromTicks(1)));
        Assert.Equal(ScrapeLoop.Offset(targets[0], "edge-1"), ScrapeLoop.Offset(targets[0], "edge-1"));
        Assert.True(targets.Take(20).Count(t => ScrapeLoop.Offset(t, "edge-1") != ScrapeLoop.Offset(t, "edge-2")) >= 19);
    }

    [Fact]
    public async Task ATargetThatSendsHeadersAndThenNothingIsGivenUpAtItsTimeoutOnTheInjectedClock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var fetcher = new ScrapeFetcher(new HttpClient(new Answer(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new NeverEndingStream()) })), time);
        var target = MetricEnvelopeTests.Target();
        using var body = new ScrapeBody();

        var fetch = fetcher.FetchAsync(target, body, CancellationToken.None);
        Assert.False(fetch.IsCompleted);
        time.Advance(target.Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(fetch.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var result = await fetch.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ScrapeFailure.Timeout, result.Failure);
    }

    [Theory]
    [InlineData(1_000_000, false, "too_large")]
    [InlineData(1_000_000, true, "too_large")]
    [InlineData(1_000, false, null)]
    public async Task ABodyOverTheLimitIsCutOffWhetherOrNotItsLengthWasAnnounced(int size, bool announced, string? expected)
    {
        var bytes = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("m 1\n", size / 4)));
        var fetcher = new ScrapeFetcher(new HttpClient(new Answer(_ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = announced ? new ByteArrayContent(bytes) : new UnannouncedContent(bytes),
        })), TimeProvider.System);
        var target = new ScrapeTargetFactory(new ScrapeOptions { MaxBodyBytes = 64 * 1024 }, "edge", new Dictionary<string, string>())
            .FromOptions(new ScrapeTargetOptions { Url = "http://127.0.0.1:1/metrics" });
        using var body = new ScrapeBody();

        var result = await fetcher.FetchAsync(target, body, CancellationToken.None);

        Assert.Equal(expected, result.Failure is { } failure ? ScrapeMetrics.ReasonLabel(failure) : null);
        Assert.True(body.Length <= 64 * 1024 + 64 * 1024, "the read stops near the limit");
    }

    [Theory]
    [InlineData("application/openmetrics-text; version=1.0.0; charset=utf-8", true)]
    [InlineData("text/plain; version=0.0.4; charset=utf-8", false)]
    [InlineData(null, false)]
    public void TheFormatFollowsTheContentTypeAndAnythingElseIsReadAsTheTextFormat(string? contentType, bool openMetrics) =>
        Assert.Equal(openMetrics ? ExpositionFormat.OpenMetrics : ExpositionFormat.PrometheusText, ScrapeFetcher.FormatOf(contentType is null ? null : System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType)));

    /// <summary>An in-process HTTP peer: answers every request with what the test says.</summary>
    private sealed class Answer(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(respond(request));
    }

    /// <summary>A body sent without a Content-Length (chunked, as most exporters send).</summary>
    private sealed class UnannouncedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A body whose next byte never comes (until the read is cancelled).</summary>
    private sealed class NeverEndingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
