using System.Text.Json;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Detection;
using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.UnitTests.Siem;

public sealed class DetectionEngineTests
{
    private static readonly DetectionRule BruteForce = new()
    {
        Name = "ssh-brute-force",
        Classifications = ["sshd-failed-password"],
        GroupBy = "source.ip",
        Threshold = 5,
        Window = TimeSpan.FromSeconds(60),
    };

    private static EcsDocument Failure(string ip, int second, string? id = null) => new EcsDocument()
        .Set("@timestamp", SiemTestData.T0.AddSeconds(second))
        .Set("event.id", id ?? $"{ip}@{second}")
        .Set("source.ip", ip);

    private static List<Alert> Run(DetectionEngine engine, IEnumerable<EcsDocument> docs) =>
        docs.SelectMany(d => engine.Observe("sshd-failed-password", d)).ToList();

    [Fact]
    public void FiveFailuresFromOneAddressWithinAMinuteFireOneAlertCarryingTheirIds()
    {
        var engine = new DetectionEngine([BruteForce]);

        var alerts = Run(engine, new[] { 0, 10, 20, 30, 59 }.Select(s => Failure("203.0.113.66", s)));

        var alert = Assert.Single(alerts);
        Assert.Equal("203.0.113.66", alert.Key);
        Assert.Equal(["203.0.113.66@0", "203.0.113.66@10", "203.0.113.66@20", "203.0.113.66@30", "203.0.113.66@59"], alert.Evidence.Select(e => e.Id));
        Assert.Equal(SiemTestData.T0.AddSeconds(59), alert.Time);
    }

    [Fact]
    public void FailuresSpreadWiderThanTheWindowNeverAlert()
    {
        var engine = new DetectionEngine([BruteForce]);

        Assert.Empty(Run(engine, Enumerable.Range(0, 20).Select(i => Failure("198.51.100.77", i * 16))));
    }

    [Fact]
    public void EachSourceIsCountedOnItsOwn()
    {
        var engine = new DetectionEngine([BruteForce]);

        var alerts = Run(engine, Enumerable.Range(0, 8).Select(i => Failure(i % 2 == 0 ? "203.0.113.1" : "203.0.113.2", i)));

        Assert.Empty(alerts);
    }

    [Fact]
    public void AfterAnAlertTheSourceIsQuietForTheSuppressPeriodThenCanAlertAgain()
    {
        var engine = new DetectionEngine([BruteForce]);

        var alerts = Run(engine, [.. Enumerable.Range(0, 12).Select(i => Failure("203.0.113.66", i * 4)), .. Enumerable.Range(0, 5).Select(i => Failure("203.0.113.66", 200 + i))]);

        Assert.Equal(2, alerts.Count);
        Assert.Equal(SiemTestData.T0.AddSeconds(16), alerts[0].Time);
        Assert.Equal(SiemTestData.T0.AddSeconds(204), alerts[1].Time);
    }

    [Fact]
    public void EventsArrivingOutOfOrderAreCountedByTheirOwnTime()
    {
        var engine = new DetectionEngine([BruteForce]);

        // The old one (70 s before the others) does not count towards their window.
        var alerts = Run(engine, [Failure("203.0.113.5", 100), Failure("203.0.113.5", 30), Failure("203.0.113.5", 101), Failure("203.0.113.5", 102), Failure("203.0.113.5", 103)]);
        Assert.Empty(alerts);
        Assert.Single(Run(engine, [Failure("203.0.113.5", 99)]));
    }

    [Fact]
    public void AnAlertHasTheSameIdWheneverTheSameEventsMakeIt()
    {
        var a = Run(new DetectionEngine([BruteForce]), new[] { 0, 1, 2, 3, 4 }.Select(s => Failure("203.0.113.66", s)));
        var b = Run(new DetectionEngine([BruteForce]), new[] { 0, 1, 2, 3, 4 }.Select(s => Failure("203.0.113.66", s)));

        Assert.Equal(a.Single().Id, b.Single().Id);
        Assert.Equal(26, a.Single().Id.Length);
    }

    [Fact]
    public void ARestartFromAnySnapshotNeitherFiresAgainNorMissesAnAlert()
    {
        var stream = SiemTestData.AuthLog(SiemTestData.AuthLogSample);
        var options = SiemTestData.ShippedOptions();
        var normaliser = new EcsNormaliser(new Classifier(options.Classification));
        var docs = stream.Select((e, i) => normaliser.Normalise(SiemTestData.Record(e, i), e, null, SiemTestData.T0)).ToList();

        List<string> RunFrom(int split)
        {
            var fired = new List<string>();
            var engine = new DetectionEngine(options.Detection);
            for (var i = 0; i < docs.Count; i++)
            {
                if (i == split)
                {
                    // What the archive's checkpoint does: serialise, then a new process restores it.
                    var saved = JsonSerializer.Serialize(engine.Snapshot(), ArchiveJson.Default.DetectionState);
                    engine = new DetectionEngine(options.Detection);
                    engine.Restore(JsonSerializer.Deserialize(saved, ArchiveJson.Default.DetectionState));
                }
                if (docs[i].Rule is { } rule) fired.AddRange(engine.Observe(rule.Name, docs[i].Document).Select(a => a.Id));
                engine.Prune();
            }
            return fired;
        }

        var uninterrupted = RunFrom(-1);
        Assert.Equal(2, uninterrupted.Count);
        for (var split = 0; split <= docs.Count; split++) Assert.Equal(uninterrupted, RunFrom(split));
    }

    [Fact]
    public void TheSshdSampleGivesExactlyTheTwoBruteForceAlertsFromTheAttacker()
    {
        var options = SiemTestData.ShippedOptions();
        var normaliser = new EcsNormaliser(new Classifier(options.Classification));
        var engine = new DetectionEngine(options.Detection);
        var events = SiemTestData.AuthLog(SiemTestData.AuthLogSample);
        var failures = events.Where(e => e.Message!.StartsWith("Failed password", StringComparison.Ordinal) && e.Message.Contains("203.0.113.66", StringComparison.Ordinal)).ToList();

        var alerts = new List<Alert>();
        foreach (var (e, i) in events.Select((e, i) => (e, i)))
        {
            var (doc, rule) = normaliser.Normalise(SiemTestData.Record(e, i), e, null, SiemTestData.T0);
            if (rule is not null) alerts.AddRange(engine.Observe(rule.Name, doc));
        }

        Assert.Equal(2, alerts.Count);
        Assert.All(alerts, a => Assert.Equal(("ssh-brute-force", "203.0.113.66"), (a.Rule.Name, a.Key)));
        Assert.Equal(failures.Take(5).Select(f => f.Id), alerts[0].Evidence.Select(e => e.Id));
        Assert.Equal(failures.Skip(12).Take(5).Select(f => f.Id), alerts[1].Evidence.Select(e => e.Id));
    }

    [Fact]
    public void TheAlertDocumentNamesTheRuleTheSourceAndTheEvidence()
    {
        var alert = Run(new DetectionEngine([BruteForce]), new[] { 0, 1, 2, 3, 4 }.Select(s => Failure("203.0.113.66", s))).Single();

        var doc = AlertDocument.Of(alert, SiemTestData.T0.AddMinutes(1));

        Assert.Equal("alert", doc.GetString("event.kind"));
        Assert.Equal("ssh-brute-force", doc.GetString("rule.name"));
        Assert.Equal("203.0.113.66", doc.GetString("source.ip"));
        Assert.Equal(5, ((string[])doc.Get("pipeline.alert.evidence")!).Length);
    }
}
