using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Client;
using Pipeline.Client.Delivery;
using Pipeline.Client.Logging;

namespace Pipeline.UnitTests.Client;

internal static partial class ShopLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "request {N} handled")]
    public static partial void Handled(ILogger logger, int n);
}

public sealed class PipelineClientTests
{
    /// <summary>A loopback address where nothing listens: every connection attempt is refused at once.</summary>
    private static Uri Nowhere()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return new Uri($"http://127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}");
    }

    [Theory]
    [InlineData(PipelineTransport.WebSocket)]
    [InlineData(PipelineTransport.Http)]
    public async Task WithTheEdgeAwayAFullQueueDropsAndCountsEveryFurtherEventAndNoCallWaits(PipelineTransport transport)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var callbacks = new List<DroppedEvents>();
        var measured = new List<(long Value, string Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Pipeline.Client" && instrument.Name == "pipeline.client.events.dropped") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => { lock (measured) measured.Add((value, (string)tags[0].Value!)); });
        listener.Start();
        var client = new PipelineClient(new PipelineClientOptions
        {
            Endpoint = Nowhere(),
            Transport = transport,
            QueueCapacity = 10,
            MaxBatchEvents = 10,
            TimeProvider = time,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            OnDropped = d => { lock (callbacks) callbacks.Add(d); },
        });
        using var logging = LoggerFactory.Create(b => b.AddProvider(new PipelineLoggerProvider(client)));
        var logger = logging.CreateLogger("Shop");

        // The loop finishing at all is the point: with the edge away and the queue full, no call waits.
        for (var i = 0; i < 1000; i++) ShopLog.Handled(logger, i);
        client.Counter("requests", 1000);

        // Held at most: the queue, plus one batch the delivery task took out of it.
        var stats = client.Stats;
        var dropped = stats.Dropped[DropReason.QueueFull];
        Assert.Equal(1001, stats.Queued + dropped);
        Assert.InRange(stats.Queued, 10, 20);
        Assert.Equal(dropped, callbacks.Sum(c => c.Count));
        Assert.All(callbacks, c => Assert.Equal(DropReason.QueueFull, c.Reason));
        Assert.Equal(dropped, measured.Where(m => m.Reason == "queue_full").Sum(m => m.Value));
        Assert.Equal(stats.Queued, client.Pending);

        // Disposal waits for the edge at most ShutdownTimeout (on the client's clock), then counts what it had to leave.
        var disposing = client.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(6));
        await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(stats.Queued, client.Stats.Dropped[DropReason.Shutdown]);
        Assert.Equal(0, client.Pending);
    }

    [Fact]
    public async Task FlushReturnsFalseWhenItsTimeoutPassesFirstAndTrueWhenNothingIsPending()
    {
        var time = new FakeTimeProvider();
        await using var client = new PipelineClient(new PipelineClientOptions { Endpoint = Nowhere(), TimeProvider = time, ShutdownTimeout = TimeSpan.Zero });
        Assert.True(await client.FlushAsync(TimeSpan.FromSeconds(1)));
        client.Counter("x");
        var flushing = client.FlushAsync(TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(flushing.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await flushing.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void AnEventLargerThanTheLimitOrAValueThatCannotBeWrittenIsDroppedAndCountedNotThrown()
    {
        using var client = new PipelineClient(new PipelineClientOptions { Endpoint = Nowhere(), MaxEventBytes = 256, ShutdownTimeout = TimeSpan.Zero });
        client.NewEvent().Add("blob", new string('x', 1000)).Send();
        client.NewEvent().Add("broken", new Unprintable()).Send();
        Assert.Equal(1, client.Stats.Dropped[DropReason.TooLarge]);
        Assert.Equal(1, client.Stats.Dropped[DropReason.Unwritable]);
    }

    [Fact]
    public void EventsAreKeptOneInTheirSampleRateAndTheRestCountedAsSampledOut()
    {
        var options = new PipelineClientOptions { Endpoint = Nowhere(), QueueCapacity = 100_000, ShutdownTimeout = TimeSpan.Zero };
        options.DatasetSampleRates["example.profile.pages"] = 4;
        using var client = new PipelineClient(options);
        for (var i = 0; i < 10_000; i++) client.NewEvent("example.profile.pages").Send();
        for (var i = 0; i < 100; i++) client.NewEvent("kept").Send();

        var stats = client.Stats;
        Assert.Equal(10_100, stats.Queued + stats.SampledOut);
        // 1 in 4 at random: 2,500 expected, the bounds seven standard deviations away.
        Assert.InRange(stats.Queued - 100, 2_200, 2_800);
    }

    [Fact]
    public void BackoffDoublesFromItsMinimumToItsCapWithJitterAndStartsAgainAfterAReset()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), new Random(7));
        var steps = Enumerable.Range(0, 10).Select(_ => backoff.Next().TotalMilliseconds).ToList();
        double[] caps = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000];
        for (var i = 0; i < caps.Length; i++) Assert.InRange(steps[i], caps[i] / 2, caps[i]);
        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 50, 100);
    }

    [Fact]
    public void WrongOptionsFailAtOnceNotAtTheFirstLogCall()
    {
        Assert.Throws<ArgumentException>(() => new PipelineClient(new PipelineClientOptions { Endpoint = new Uri("ftp://edge") }));
        Assert.Throws<ArgumentException>(() => new PipelineClient(new PipelineClientOptions { QueueCapacity = 0 }));
        Assert.Throws<ArgumentException>(() => LoggerFactory.Create(b => b.AddPipeline(o => o.SampleRate = 0)));
    }

    private sealed class Unprintable
    {
        public override string ToString() => throw new InvalidOperationException("no text for this");
    }
}
