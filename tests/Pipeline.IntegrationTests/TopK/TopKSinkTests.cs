using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pipeline.Consumers.TopK;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Core.Envelope;
using Pipeline.Core.Ids;
using Pipeline.Testing;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;
using Pipeline.Postgres;

namespace Pipeline.IntegrationTests.TopK;

/// <summary>The aggregator sink in this process against a real PostgreSQL: what a checkpoint stores, loads and refuses.</summary>
public sealed class TopKSinkTests : IAsyncLifetime
{
    private static readonly PartitionKey P0 = new("syslog", 0);
    private static readonly PartitionKey P1 = new("syslog", 1);
    private static readonly DateTimeOffset T = new(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTime _time = new(T.AddMinutes(30));
    private TemporaryDatabase _db = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _db = await PostgresServer.Instance.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_db.ConnectionString);
        await Migrator.ApplyCoreAsync(_dataSource, CancellationToken.None);
        await Migrator.ApplyAsync(_dataSource, typeof(TopKSink).Assembly, ["topk"], CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task CountsAndOffsetsAreStoredTogetherAndAReassignedMemberResumesFromThem()
    {
        var first = Sink();
        Assert.Empty(await first.OnAssignedAsync([P0, P1], default));
        await first.WriteAsync(Batch(P0, 0, Events(40, "a", sampleRate: 2)), default);
        await first.WriteAsync(Batch(P1, 0, Events(10, "b")), default);
        Assert.Equal(40L, await _db.ScalarAsync<long>("select next_offset from consumer_offsets where group_id = 'topk' and partition = 0"));

        // Another process takes over: it starts where the store says, with the counts the store holds.
        var second = Sink();
        var resume = await second.OnAssignedAsync([P0, P1], default);
        Assert.Equal(new Dictionary<PartitionKey, long> { [P0] = 40, [P1] = 10 }, resume);
        await second.WriteAsync(Batch(P0, 40, Events(5, "a", sampleRate: 2)), default);

        var answer = await Query("host", 60, T);
        Assert.Equal("open", answer.State);
        Assert.Equal([("a", 90L, 0L), ("b", 10L, 0L)], answer.Top.Select(e => (e.Key, e.Count, e.Error)));
        Assert.Equal(100, answer.Events);
    }

    [Fact]
    public async Task AMemberThatLostAPartitionCannotOverwriteTheNewOwnersCheckpoint()
    {
        var old = Sink();
        await old.OnAssignedAsync([P0], default);
        await old.WriteAsync(Batch(P0, 0, Events(10, "a")), default);

        var current = Sink();
        await current.OnAssignedAsync([P0], default);
        await current.WriteAsync(Batch(P0, 10, Events(5, "a")), default);

        // The old member still believes it owns P0 and writes the same records again: refused, and it lets go.
        await old.WriteAsync(Batch(P0, 10, Events(5, "a")), default);
        Assert.DoesNotContain(P0, old.Owned);
        Assert.Equal(15, (await Query("host", 60, T)).Top.Single().Count);
        Assert.Equal(15L, await _db.ScalarAsync<long>("select next_offset from consumer_offsets where group_id = 'topk'"));
    }

    [Fact]
    public async Task WhenACheckpointFailsTheRetriedBatchIsCountedOnceNotTwice()
    {
        var sink = Sink();
        await sink.OnAssignedAsync([P0], default);
        await sink.WriteAsync(Batch(P0, 0, Events(10, "a")), default);

        await using (var connection = await _dataSource.OpenConnectionAsync())
            await connection.ExecuteAsync("alter table topk_windows rename to topk_windows_away");
        var batch = Batch(P0, 10, Events(7, "a"));
        await Assert.ThrowsAnyAsync<PostgresException>(() => sink.WriteAsync(batch, default));
        await using (var connection = await _dataSource.OpenConnectionAsync())
            await connection.ExecuteAsync("alter table topk_windows_away rename to topk_windows");
        await sink.WriteAsync(batch, default);

        Assert.Equal(17, (await Query("host", 60, T)).Top.Single().Count);
    }

    [Fact]
    public async Task BatchesWithinTheCheckpointIntervalAreStoredWithTheirOffsetsByTheNextCheckpoint()
    {
        var sink = Sink(checkpointInterval: TimeSpan.FromSeconds(1));
        await sink.OnAssignedAsync([P0], default);
        await sink.WriteAsync(Batch(P0, 0, Events(10, "a")), default);
        await sink.WriteAsync(Batch(P0, 10, Events(5, "a")), default);
        // The second batch is counted, not stored yet: the store still agrees with itself (10 counted, offset 10).
        Assert.Equal(10L, await StoredOffset(P0));
        Assert.Equal(10, (await Query("host", 60, T)).Top.Single().Count);

        _time.Now += TimeSpan.FromSeconds(1);
        await sink.WriteAsync(Batch(P0, 15, Events(2, "a")), default);
        Assert.Equal(17L, await StoredOffset(P0));
        Assert.Equal(17, (await Query("host", 60, T)).Top.Single().Count);

        // A stream that stops: the close tick stores what is pending once the interval has passed.
        await sink.WriteAsync(Batch(P0, 17, Events(3, "a")), default);
        await sink.CloseDueAsync(default);
        Assert.Equal(17L, await StoredOffset(P0));
        _time.Now += TimeSpan.FromSeconds(1);
        await sink.CloseDueAsync(default);
        Assert.Equal(20L, await StoredOffset(P0));
        Assert.Equal(20, (await Query("host", 60, T)).Top.Single().Count);
    }

    [Fact]
    public async Task AfterACrashTheBatchesNotYetCheckpointedAreReadAgainAndCountedOnce()
    {
        var crashed = Sink(checkpointInterval: TimeSpan.FromSeconds(1));
        await crashed.OnAssignedAsync([P0], default);
        await crashed.WriteAsync(Batch(P0, 0, Events(10, "a")), default);
        await crashed.WriteAsync(Batch(P0, 10, Events(5, "a")), default);

        // The process dies with the second batch counted in memory only; the next one resumes from the store.
        var next = Sink(checkpointInterval: TimeSpan.FromSeconds(1));
        Assert.Equal(10L, (await next.OnAssignedAsync([P0], default))[P0]);
        await next.WriteAsync(Batch(P0, 10, Events(5, "a")), default);
        _time.Now += TimeSpan.FromSeconds(1);
        await next.CloseDueAsync(default);
        Assert.Equal(15, (await Query("host", 60, T)).Top.Single().Count);
        Assert.Equal(15L, await StoredOffset(P0));
    }

    [Fact]
    public async Task WhatIsCountedIsStoredBeforeAPartitionIsLetGo()
    {
        var first = Sink(checkpointInterval: TimeSpan.FromSeconds(1));
        await first.OnAssignedAsync([P0], default);
        await first.WriteAsync(Batch(P0, 0, Events(10, "a")), default);
        await first.WriteAsync(Batch(P0, 10, Events(5, "a")), default);
        await first.OnRevokedAsync([P0], default);

        Assert.Equal(15L, await StoredOffset(P0));
        var second = Sink(checkpointInterval: TimeSpan.FromSeconds(1));
        Assert.Equal(15L, (await second.OnAssignedAsync([P0], default))[P0]);
        Assert.Equal(15, (await Query("host", 60, T)).Top.Single().Count);
    }

    [Fact]
    public async Task AFailedCheckpointLosesNoDeferredBatchAndTheRetryCountsNothingTwice()
    {
        var sink = Sink(checkpointInterval: TimeSpan.FromSeconds(1));
        await sink.OnAssignedAsync([P0], default);
        await sink.WriteAsync(Batch(P0, 0, Events(10, "a")), default);
        await sink.WriteAsync(Batch(P0, 10, Events(5, "a")), default);

        await using (var connection = await _dataSource.OpenConnectionAsync())
            await connection.ExecuteAsync("alter table topk_windows rename to topk_windows_away");
        _time.Now += TimeSpan.FromSeconds(1);
        var batch = Batch(P0, 15, Events(7, "a"));
        await Assert.ThrowsAnyAsync<PostgresException>(() => sink.WriteAsync(batch, default));
        await using (var connection = await _dataSource.OpenConnectionAsync())
            await connection.ExecuteAsync("alter table topk_windows_away rename to topk_windows");
        // The runtime writes the same batch again: its records are counted already, and the checkpoint is retried at once.
        await sink.WriteAsync(batch, default);

        Assert.Equal(22, (await Query("host", 60, T)).Top.Single().Count);
        Assert.Equal(22L, await StoredOffset(P0));
    }

    [Fact]
    public async Task ACommitThatFailsWithoutAnAnswerIsSettledWithTheServerBeforeTheNextCheckpoint()
    {
        // A deferred trigger fails the commit itself: the client hears an error at COMMIT, as when the connection
        // breaks then, and cannot tell from it whether the checkpoint was stored; the sink asks the server.
        await using (var connection = await _dataSource.OpenConnectionAsync())
            await connection.ExecuteAsync("""
                create table refuse_commit (refuse boolean);
                create function refuse_commit() returns trigger language plpgsql as $$
                begin if exists (select 1 from refuse_commit) then raise exception 'commit refused'; end if; return null; end $$;
                create constraint trigger refuse_commit after insert or update on consumer_offsets
                    deferrable initially deferred for each row execute function refuse_commit();
                """);
        var sink = Sink();
        await sink.OnAssignedAsync([P0], default);
        await sink.WriteAsync(Batch(P0, 0, Events(4, "b", sampleRate: 2)), default);
        await _db.ScalarAsync<int>("insert into refuse_commit values (true) returning 1");
        var batch = Batch(P0, 4, Events(6, "a"));
        var failed = await Assert.ThrowsAsync<CheckpointInDoubtException>(() => sink.WriteAsync(batch, default));
        Assert.IsType<PostgresException>(failed.InnerException);

        await _db.ScalarAsync<int>("with gone as (delete from refuse_commit returning 1) select count(*)::int from gone");
        await sink.WriteAsync(batch, default);
        Assert.Equal(10L, await StoredOffset(P0));
        Assert.Equal([("b", 8L), ("a", 6L)], (await Query("host", 60, T)).Top.Select(e => (e.Key, e.Count)));
    }

    [Fact]
    public async Task AQuietPartitionsWindowClosesOnTheWallClockAndLaterEventsForItAreCountedAsLate()
    {
        var sink = Sink(lateness: TimeSpan.FromSeconds(10), idle: TimeSpan.FromSeconds(5));
        _time.Now = T.AddSeconds(50);
        await sink.OnAssignedAsync([P0], default);
        await sink.WriteAsync(Batch(P0, 0, Events(10, "a")), default);

        // No event arrives any more: at end + lateness the window closes anyway.
        _time.Now = T.AddSeconds(69);
        Assert.Equal(0, await sink.CloseDueAsync(default));
        _time.Now = T.AddSeconds(70);
        Assert.Equal(1, await sink.CloseDueAsync(default));
        Assert.Equal("closed", (await Query("host", 60, T)).State);

        await sink.WriteAsync(Batch(P0, 10, Events(3, "late", sampleRate: 4)), default);
        var answer = await Query("host", 60, T);
        Assert.Equal(12, answer.Late);
        Assert.Equal([("a", 10L)], answer.Top.Select(e => (e.Key, e.Count)));
        // The hour is still open and takes them.
        Assert.Contains(("late", 12L), (await Query("host", 3600, T)).Top.Select(e => (e.Key, e.Count)));
    }

    [Fact]
    public async Task ClosedWindowsArePublishedAndOnlyWhatKafkaTookIsMarked()
    {
        var sink = Sink(lateness: TimeSpan.Zero, idle: TimeSpan.FromSeconds(1));
        await sink.OnAssignedAsync([P0, P1], default);
        await sink.WriteAsync(Batch(P0, 0, Events(4, "a")), default);
        await sink.WriteAsync(Batch(P1, 0, Events(6, "b")), default);
        _time.Now = T.AddHours(2);
        Assert.Equal(4, await sink.CloseDueAsync(default));

        var store = new StoredWindows(_dataSource, "topk");
        // Kafka takes only the minute's result this round: the hour's stays pending.
        var offered = new List<(PendingWindow Window, int Parts)>();
        Assert.Equal(1, await store.PublishPendingAsync(100, windows =>
        {
            offered.AddRange(windows.Select(w => (w.Window, w.Parts.Count)));
            return Task.FromResult<IReadOnlyList<PendingWindow>>(windows.Where(w => w.Window.GranularitySeconds == 60).Select(w => w.Window).ToList());
        }, default));
        // One minute and one hour window of one dimension, each with both partitions merged into one message.
        Assert.Equal([(60, 2), (3600, 2)], offered.Select(o => (o.Window.GranularitySeconds, o.Parts)).Order());

        var again = new List<PendingWindow>();
        Assert.Equal(1, await store.PublishPendingAsync(100, windows =>
        {
            again.AddRange(windows.Select(w => w.Window));
            return Task.FromResult<IReadOnlyList<PendingWindow>>(again);
        }, default));
        Assert.Equal(3600, Assert.Single(again).GranularitySeconds);
        Assert.Equal(0, await store.PublishPendingAsync(100, windows => Task.FromResult<IReadOnlyList<PendingWindow>>([]), default));
    }

    [Fact]
    public async Task ACheckpointOfPartitionsWithAndWithoutAWatermarkIsStored()
    {
        // A partition that has delivered nothing with a usable time yet has no watermark; one checkpoint may carry it
        // beside partitions that have one (the database driver refuses a timestamp array of mixed null and UTC values).
        var store = new TopKStore(_dataSource, "topk");
        var claimed = (await store.LoadAsync([P0, P1], claim: true, expectedEpochs: null, default)).ToDictionary(p => p.Key);
        var checkpoint = new Checkpoint([], [],
        [
            new ProgressRow(P0, claimed[P0].Epoch, 60, Watermark: null, ClosedThrough: null, NextOffset: 3),
            new ProgressRow(P1, claimed[P1].Epoch, 60, Watermark: T, ClosedThrough: T, NextOffset: 7),
        ], T);

        Assert.Empty(await store.CheckpointAsync(checkpoint, default));

        var epochs = claimed.ToDictionary(c => c.Key, c => c.Value.Epoch);
        var stored = (await store.LoadAsync([P0, P1], claim: false, epochs, default)).ToDictionary(p => p.Key);
        Assert.Equal((3L, (DateTimeOffset?)null), (stored[P0].NextOffset!.Value, stored[P0].Watermark));
        Assert.Equal((7L, (DateTimeOffset?)T), (stored[P1].NextOffset!.Value, stored[P1].Watermark));
    }

    // Most tests look at one checkpoint per batch (interval zero); those about deferred checkpoints set one.
    private TopKSink Sink(TimeSpan? lateness = null, TimeSpan? idle = null, TimeSpan? checkpointInterval = null)
    {
        var options = new TopKOptions
        {
            ConnectionString = _db.ConnectionString,
            Dimensions = "host",
            AllowedLateness = lateness ?? TimeSpan.FromSeconds(30),
            IdleTimeout = idle ?? TimeSpan.FromSeconds(10),
            CheckpointInterval = checkpointInterval ?? TimeSpan.Zero,
        };
        var metrics = new TopKMetrics(new InProcessMetrics(), "topk", options.Granularities);
        return new TopKSink(new TopKAggregator(AggregatorSettings.From(options)), new TopKStore(_dataSource, "topk"), metrics, options, _time,
            NullLogger<TopKSink>.Instance);
    }

    private Task<long> StoredOffset(PartitionKey partition) =>
        _db.ScalarAsync<long>($"select next_offset from consumer_offsets where group_id = 'topk' and partition = {partition.Partition}");

    private async Task<TopKResult> Query(string dimension, int seconds, DateTimeOffset at)
    {
        var store = new StoredWindows(_dataSource, "topk");
        var g = new Granularity(TimeSpan.FromSeconds(seconds));
        var (parts, late) = await store.ReadWindowAsync(seconds, g.Start(at), dimension, closedOnly: false, default);
        return TopKResult.Build("topk", dimension, g, g.Start(at), parts, late, 10);
    }

    private static IEnumerable<byte[]> Events(int count, string host, int sampleRate = 1) =>
        Enumerable.Range(0, count).Select(i => EnvelopeCodec.Encode(new TelemetryEvent
        {
            Id = Ulid.NewString(T),
            ReceivedAt = T.AddSeconds(i % 50),
            Source = new EventSource { Transport = "udp" },
            SampleRate = sampleRate,
            Syslog = new SyslogFields { Hostname = host, Severity = 6 },
            Message = "m",
        }));

    private static SinkBatch Batch(PartitionKey partition, long firstOffset, IEnumerable<byte[]> values)
    {
        var records = values.Select((v, i) => new ConsumedRecord(partition.Topic, partition.Partition, firstOffset + i, null, v, T)).ToList();
        return new SinkBatch(records, new Dictionary<PartitionKey, long> { [partition] = firstOffset + records.Count });
    }

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
