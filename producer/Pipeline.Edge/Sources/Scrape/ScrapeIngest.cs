using System.Runtime.InteropServices;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>
/// What happens to a parsed scrape: each sample is routed, sampled, marked up as one metric event and
/// published, keyed by its target and series so a series stays in order on one partition. Every sample
/// enters the loss ledger under the scrape listener. Runs on the scrape loop's thread; never waits on Kafka
/// itself (the loop decides how long to wait for room).
/// </summary>
internal sealed class ScrapeIngest(Router router, EdgePublisher publisher, LossLedger ledger)
{
    [ThreadStatic] private static byte[]? t_key;

    private static ReadOnlySpan<byte> Up => "up"u8;
    private static ReadOnlySpan<byte> Duration => "scrape_duration_seconds"u8;
    private static ReadOnlySpan<byte> Scraped => "scrape_samples_scraped"u8;

    /// <summary>The route of a target's samples: every fact a route can match on is the same for all of them.</summary>
    public EventRoute RouteOf(ScrapeTarget target) => router.Choose(new RoutingFacts
    {
        Facility = -1,
        Severity = -1,
        App = target.JobBytes,
        Kind = EventKinds.Metric,
        Tenant = target.Origin.Listener.Tenant,
        Listener = target.Origin.Listener.Name,
    });

    /// <summary>
    /// Publishes the samples of a scrape from index <paramref name="from"/> on; returns the index of the first
    /// the publisher had no room for (nothing counted for it: offer it again), or the sample count when all
    /// were taken.
    /// </summary>
    public int PublishFrom(ScrapeTarget target, ReadOnlySpan<byte> body, ParsedExposition parsed, DateTimeOffset scrapedAt, int from)
    {
        var route = RouteOf(target);
        var cell = ledger.Cell(target.Origin.Listener.Name, route.Name);
        var header = new EnvelopeHeader(scrapedAt, EventKinds.Metric, target.Origin, route.SampleRate);
        var families = CollectionsMarshal.AsSpan(parsed.Families);
        var samples = parsed.Samples;
        var writer = EnvelopeWriter.ForCurrentThread;
        for (var i = from; i < samples.Length; i++)
        {
            ref readonly var sample = ref samples[i];
            if (!route.Keep())
            {
                cell.ReceivedAndDropped(DropReason.SampledOut);
                continue;
            }
            var view = new MetricSampleView
            {
                Name = sample.Name.Of(body),
                NameEscaped = sample.NameEscaped,
                Labels = sample.Labels.Of(body),
                Type = parsed.UntypedAs,
                Value = sample.Value,
                HasTimestamp = sample.HasTimestamp,
                TimestampMs = sample.TimestampMs,
                Delta = sample.Delta,
            };
            if (sample.Family >= 0)
            {
                ref readonly var family = ref families[sample.Family];
                view.Type = family.Type;
                view.Unit = family.Unit.Of(body);
                if (family.Name.Length != sample.Name.Length) view.Family = family.Name.Of(body);
            }
            var envelope = writer.WriteMetricSample(header, view, target);
            var key = Key(target, sample.Series.Of(body));
            if (publisher.Publish(route, cell, key, true, envelope, target.Origin.Listener.Buffer, senderWaits: true) == PublishOutcome.Full) return i;
        }
        return samples.Length;
    }

    /// <summary>Samples that will not be offered again (buffers stayed full): dropped, and counted as such.</summary>
    public void DropRest(ScrapeTarget target, int count)
    {
        var cell = ledger.Cell(target.Origin.Listener.Name, RouteOf(target).Name);
        for (var i = 0; i < count; i++) cell.ReceivedAndDropped(DropReason.BufferFull);
    }

    /// <summary>
    /// The scrape's own series, as Prometheus adds them: <c>up</c> (1 or 0), <c>scrape_duration_seconds</c> and
    /// <c>scrape_samples_scraped</c>, with the target's labels, so a target's staleness is visible downstream too.
    /// </summary>
    public void PublishReport(ScrapeTarget target, DateTimeOffset scrapedAt, bool up, TimeSpan duration, int samples)
    {
        var route = RouteOf(target);
        var cell = ledger.Cell(target.Origin.Listener.Name, route.Name);
        var header = new EnvelopeHeader(scrapedAt, EventKinds.Metric, target.Origin, route.SampleRate);
        Report(target, route, cell, header, Up, up ? 1 : 0);
        Report(target, route, cell, header, Duration, duration.TotalSeconds);
        Report(target, route, cell, header, Scraped, samples);
    }

    private void Report(ScrapeTarget target, EventRoute route, LedgerCell cell, in EnvelopeHeader header, ReadOnlySpan<byte> name, double value)
    {
        if (!route.Keep())
        {
            cell.ReceivedAndDropped(DropReason.SampledOut);
            return;
        }
        var view = new MetricSampleView { Name = name, Type = MetricType.Gauge, Value = value, Delta = double.NaN };
        var envelope = EnvelopeWriter.ForCurrentThread.WriteMetricSample(header, view, target);
        // Not worth holding the loop for: when even the spool is full, the report is dropped and counted.
        if (publisher.Publish(route, cell, Key(target, name), true, envelope, target.Origin.Listener.Buffer) == PublishOutcome.Full)
            cell.ReceivedAndDropped(DropReason.BufferFull);
    }

    /// <summary>Waits until the publisher has room for the target's route (the loop bounds the wait).</summary>
    public Task WaitForRoomAsync(ScrapeTarget target, CancellationToken cancellationToken) =>
        publisher.WaitForRoomAsync(RouteOf(target).Priority, target.Origin.Listener.Buffer, cancellationToken);

    /// <summary>The instance, a blank, and the series as written.</summary>
    private static ReadOnlySpan<byte> Key(ScrapeTarget target, ReadOnlySpan<byte> series)
    {
        var length = target.KeyPrefix.Length + series.Length;
        var key = t_key is { } k && k.Length >= length ? k : t_key = new byte[Math.Max(256, length * 2)];
        target.KeyPrefix.CopyTo(key, 0);
        series.CopyTo(key.AsSpan(target.KeyPrefix.Length));
        return key.AsSpan(0, length);
    }
}
