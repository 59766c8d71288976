using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Forwarding;
using Pipeline.Core.Hosting;
using Pipeline.Testing;

namespace Pipeline.UnitTests.Siem;

public sealed class ArchiveForwarderTests
{
    /// <summary>A destination that confirms only what the test allows and fails when told to.</summary>
    private sealed class ScriptedDestination : IForwardDestination
    {
        private readonly object _gate = new();
        private readonly List<long> _sent = [];

        public volatile bool Fail;
        public long ConfirmUpTo;
        public int Resets;

        public int MaxInFlight => 2;
        public TimeSpan ConfirmInterval => TimeSpan.FromMilliseconds(5);

        public List<long> Sent
        {
            get
            {
                lock (_gate) return [.. _sent];
            }
        }

        public Task SendAsync(OutgoingBatch batch, CancellationToken cancellationToken)
        {
            if (Fail) throw new IOException("destination down");
            lock (_gate) _sent.AddRange(batch.Records.Select(r => r.Seq));
            return Task.CompletedTask;
        }

        public Task ConfirmAsync(IReadOnlyCollection<OutgoingBatch> inFlight, CancellationToken cancellationToken)
        {
            if (Fail) throw new IOException("destination down");
            foreach (var batch in inFlight)
                if (batch.Records.All(r => r.Seq <= Interlocked.Read(ref ConfirmUpTo))) batch.Confirmed = true;
            return Task.CompletedTask;
        }

        public ValueTask ResetAsync()
        {
            Interlocked.Increment(ref Resets);
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static ArchiveForwarder Forwarder(ArchiveWriter archive, IForwardDestination destination, InProcessMetrics registry,
        string include = "all", TimeProvider? time = null) =>
        new("scripted", include, 10, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), destination, archive,
            new SiemMetrics(registry), new HealthState(), time ?? TimeProvider.System, NullLogger.Instance);

    /// <summary>The cursor as the file holds it (what a restart resumes from), or -1 when there is none.</summary>
    private static long StoredSeq(ArchiveWriter archive) =>
        ArchiveJson.Read(Path.Combine(archive.Directory, ArchiveFormat.CursorsFolder, "scripted.json"), ArchiveJson.Default.ArchiveCursor)?.Seq ?? -1;

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task TheCursorMovesOnlyOverConfirmedBatchesAndAfterAFailureEverythingUnconfirmedIsSentAgain()
    {
        using var dir = new TempDir();
        using var archive = TestArchive.Open(dir.Path, segmentMaxBytes: 4096);
        for (var b = 0; b < 3; b++) TestArchive.WriteBatch(archive, b * 10, 10);
        using var registry = new InProcessMetrics();
        var destination = new ScriptedDestination { ConfirmUpTo = 10 };
        var forwarder = Forwarder(archive, destination, registry);

        await forwarder.StartAsync(CancellationToken.None);
        // Two batches in flight, only the first confirmed: the cursor stops after it.
        await Until(() => destination.Sent.Contains(20) && forwarder.Cursor.Seq == 10, "two batches sent, one confirmed");
        Assert.Equal(10, forwarder.Cursor.Seq);
        // Delivered records move the stored cursor at once, not on a timer or at the stop.
        Assert.Equal(10, StoredSeq(archive));
        Assert.Equal(10d, registry.Sum("siem_forward_records_total", ("destination", "scripted"), ("outcome", "delivered")));

        destination.Fail = true;
        await Until(() => destination.Resets > 0, "a failure");
        destination.Fail = false;
        Interlocked.Exchange(ref destination.ConfirmUpTo, long.MaxValue);
        await Until(() => forwarder.Cursor.Seq == 30, "everything confirmed");
        await forwarder.StopAsync(CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), destination.Sent.Distinct().Order());
        Assert.True(destination.Sent.Count(s => s == 15) >= 2, "the unconfirmed batch was not sent again");
        Assert.Equal(30d, registry.Sum("siem_forward_records_total", ("destination", "scripted"), ("outcome", "delivered")));
        Assert.True(registry.Sum("siem_forward_failures_total", ("destination", "scripted")) >= 1);
    }

    [Fact]
    public async Task AfterARestartForwardingResumesFromTheDurableCursorAcrossSegments()
    {
        using var dir = new TempDir();
        using var archive = TestArchive.Open(dir.Path, segmentMaxBytes: 4096);
        for (var b = 0; b < 4; b++) TestArchive.WriteBatch(archive, b * 10, 10);
        var first = new ScriptedDestination { ConfirmUpTo = long.MaxValue };
        var forwarder = Forwarder(archive, first, new InProcessMetrics());
        await forwarder.StartAsync(CancellationToken.None);
        await Until(() => forwarder.Cursor.Seq == 40, "first forwarder done");
        await forwarder.StopAsync(CancellationToken.None);

        for (var b = 4; b < 6; b++) TestArchive.WriteBatch(archive, b * 10, 10);
        var second = new ScriptedDestination { ConfirmUpTo = long.MaxValue };
        var restarted = Forwarder(archive, second, new InProcessMetrics());
        await restarted.StartAsync(CancellationToken.None);
        await Until(() => restarted.Cursor.Seq == 60, "restarted forwarder done");
        await restarted.StopAsync(CancellationToken.None);

        Assert.True(archive.Committed.Segment > 2, "the records should span several segments");
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), first.Sent);
        Assert.Equal(Enumerable.Range(41, 20).Select(i => (long)i), second.Sent);
    }

    [Fact]
    public async Task ProgressOverSkippedRecordsIsStoredAtMostOnceASecondAndOnStop()
    {
        using var dir = new TempDir();
        using var archive = TestArchive.Open(dir.Path);
        for (var b = 0; b < 3; b++) TestArchive.WriteBatch(archive, b * 10, 10);
        var time = new FakeTimeProvider();
        var destination = new ScriptedDestination { ConfirmUpTo = long.MaxValue };
        // Only alerts go out: every event of this archive is read and skipped, as the alerts forwarder skips them.
        var forwarder = Forwarder(archive, destination, new InProcessMetrics(), include: "alerts", time: time);

        await forwarder.StartAsync(CancellationToken.None);
        await Until(() => forwarder.Cursor.Seq == 30, "every record read");
        // The first skipped batch is stored (nothing was before); the two after it wait for the clock.
        Assert.Equal(10, StoredSeq(archive));

        time.Advance(ArchiveForwarder.SkippedProgressInterval);
        await Until(() => StoredSeq(archive) == 30, "the skipped progress stored once its second passed");

        for (var b = 3; b < 5; b++) TestArchive.WriteBatch(archive, b * 10, 10);
        await Until(() => forwarder.Cursor.Seq == 50, "the new records read");
        Assert.Equal(30, StoredSeq(archive));

        await forwarder.StopAsync(CancellationToken.None);
        Assert.Equal(50, StoredSeq(archive));
        Assert.Empty(destination.Sent);
    }

    [Fact]
    public void TheReaderCountsEveryRecordButCopiesOutOnlyTheTypesItIsAskedFor()
    {
        using var dir = new TempDir();
        using var archive = TestArchive.Open(dir.Path);
        archive.RollIfDue();
        for (var offset = 0; offset < 6; offset++)
        {
            archive.StageEvent(new Pipeline.Kafka.Consuming.ConsumedRecord("syslog", 0, offset, null, [], SiemTestData.T0), TestArchive.Doc("syslog", 0, offset));
            if (offset % 3 == 2) archive.StageAlert(new Pipeline.Consumers.Siem.Normalising.EcsDocument().Set("rule.name", $"rule-{offset}"));
        }
        archive.Commit(new Dictionary<Pipeline.Kafka.Consuming.PartitionKey, long> { [new("syslog", 0)] = 6 }, null);
        var reader = new ArchiveReader(archive.Directory);

        var (alerts, read, next) = reader.Read(ArchiveCursor.Start, archive.Committed, 100, type => type == ArchiveFormat.AlertType);
        Assert.Equal(8, read);
        Assert.Equal([ArchiveFormat.AlertType, ArchiveFormat.AlertType], alerts.Select(r => r.Type));
        Assert.Equal([4L, 8L], alerts.Select(r => r.Seq));
        Assert.Equal(8, next.Seq);

        // The limit counts records read, skipped or not: the fourth record ends the first read.
        var (first, firstRead, firstNext) = reader.Read(ArchiveCursor.Start, archive.Committed, 4, type => type == ArchiveFormat.AlertType);
        Assert.Equal(4, firstRead);
        Assert.Equal([4L], first.Select(r => r.Seq));
        var (rest, restRead, _) = reader.Read(firstNext, archive.Committed, 100);
        Assert.Equal(4, restRead);
        Assert.Equal([5L, 6L, 7L, 8L], rest.Select(r => r.Seq));
    }
}
