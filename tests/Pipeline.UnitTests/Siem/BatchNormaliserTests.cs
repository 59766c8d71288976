using System.Text;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Siem;

/// <summary>
/// Normalising a batch's records on several threads gives, record for record, what one thread gives: the same
/// documents as JSON, classification, event time, unreadable and skipped records.
/// </summary>
public sealed class BatchNormaliserTests
{
    private static readonly DateTimeOffset Ingested = SiemTestData.T0.AddMinutes(5);

    private static SinkBatch Batch()
    {
        var events = SiemTestData.AuthLog(SiemTestData.AuthLogSample);
        var records = new List<ConsumedRecord>();
        for (var i = 0; i < 1000; i++)
        {
            var partition = i % 3;
            var offset = (long)(i / 3);
            records.Add(i % 97 == 13
                ? new ConsumedRecord("syslog", partition, offset, null, Encoding.UTF8.GetBytes("not an envelope " + i), SiemTestData.T0)
                : SiemTestData.Record(events[i % events.Count], offset, partition: partition));
        }
        var next = records.GroupBy(r => r.PartitionKey).ToDictionary(g => g.Key, g => g.Max(r => r.Offset) + 1);
        return new SinkBatch(records, next);
    }

    private static List<(bool Skipped, bool Unreadable, string? Rule, DateTimeOffset? EventTime, string Json, string Observed)> Normalised(int threads, SinkBatch batch,
        IReadOnlyDictionary<PartitionKey, long> archived) =>
        Normalised(NewNormaliser(threads), batch, archived);

    private static List<(bool Skipped, bool Unreadable, string? Rule, DateTimeOffset? EventTime, string Json, string Observed)> Normalised(BatchNormaliser normaliser,
        SinkBatch batch, IReadOnlyDictionary<PartitionKey, long> archived)
    {
        var result = new List<(bool, bool, string?, DateTimeOffset?, string, string)>();
        foreach (var r in normaliser.Normalise(batch, archived, Ingested))
            result.Add(Row(normaliser, r));
        return result;
    }

    private static (bool Skipped, bool Unreadable, string? Rule, DateTimeOffset? EventTime, string Json, string Observed) Row(BatchNormaliser normaliser, in NormalisedRecord r) =>
        (r.Skipped, r.Unreadable, r.Rule?.Name, r.EventTime, r.Skipped ? "" : Encoding.UTF8.GetString(normaliser.Json(r)),
            r.Observation is { } o ? $"{o.Classification} {o.Time:O} {o.Id} {string.Join(',', o.Keys)}" : "");

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(16)]
    public void EveryRecordComesOutAsOneThreadMakesIt(int threads)
    {
        var batch = Batch();
        var archived = new Dictionary<PartitionKey, long> { [new PartitionKey("syslog", 1)] = 40 };

        var one = Normalised(1, batch, archived);
        var many = Normalised(threads, batch, archived);

        Assert.Equal(one, many);
        Assert.Equal(40, one.Count(r => r.Skipped));
        Assert.Contains(one, r => r.Unreadable && r.Json.Contains("pipeline_envelope_unreadable", StringComparison.Ordinal));
        Assert.Contains(one, r => r.Rule == "sshd-failed-password" && r.Observed.StartsWith("sshd-failed-password ", StringComparison.Ordinal) && r.Observed.EndsWith("203.0.113.66", StringComparison.Ordinal));
        Assert.Contains(one, r => r.Rule == "sshd-accepted" && r.Observed == "");
        Assert.All(one.Where(r => !r.Skipped), r => Assert.StartsWith("{\"@timestamp\":", r.Json, StringComparison.Ordinal));
    }

    [Fact]
    public void TheNextBatchReusesTheBuffersAndGivesItsOwnRecords()
    {
        var normaliser = NewNormaliser(2);
        var batch = Batch();
        var first = normaliser.Normalise(batch, new Dictionary<PartitionKey, long>(), Ingested).ToArray().Select(r => Encoding.UTF8.GetString(normaliser.Json(r))).ToList();
        var small = new SinkBatch(batch.Records.Take(5).ToList(), new Dictionary<PartitionKey, long>());

        var second = normaliser.Normalise(small, new Dictionary<PartitionKey, long>(), Ingested).ToArray().Select(r => Encoding.UTF8.GetString(normaliser.Json(r))).ToList();

        Assert.Equal(first.Take(5), second);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void RecordsTakenInOrderWhileOtherThreadsStillNormaliseAreThoseOfOneThread(int threads)
    {
        var batch = Batch();
        var archived = new Dictionary<PartitionKey, long> { [new PartitionKey("syslog", 1)] = 40 };
        var one = Normalised(1, batch, archived);
        var normaliser = NewNormaliser(threads);

        var taken = new List<(bool Skipped, bool Unreadable, string? Rule, DateTimeOffset? EventTime, string Json, string Observed)>();
        using (var pass = normaliser.Start(batch, archived, Ingested))
            for (var index = 0; index < batch.Records.Count; index++)
                taken.Add(Row(normaliser, pass.Await(index)));

        Assert.Equal(one, taken);
    }

    [Fact]
    public void AFailureReachesTheSinkAtItsRecordsPlaceAndTheNextBatchIsNormalisedWhole()
    {
        var batch = Batch();
        var normaliser = NewNormaliser(2);
        // Only partition 2's position lookups fail: its records go last, after 640 of the others (runs 0-9 of 64),
        // so the first failing record opens run 10.
        var ordered = batch.Records.Where(r => r.Partition != 2).Take(640).Concat(batch.Records.Where(r => r.Partition == 2)).ToList();
        var failing = new SinkBatch(ordered, batch.NextOffsets);
        var lookups = new FailingPositions(new PartitionKey("syslog", 2));

        var awaited = 0;
        var thrown = Assert.Throws<InvalidOperationException>(() =>
        {
            using var pass = normaliser.Start(failing, lookups, Ingested);
            for (var index = 0; index < failing.Records.Count; index++)
            {
                _ = pass.Await(index);
                awaited++;
            }
        });

        Assert.Equal("positions of syslog[2] unavailable", thrown.Message);
        Assert.Equal(640, awaited);
        // Every helper is back and the buffers are the normaliser's again: the next batch comes out whole.
        Assert.Equal(Normalised(1, batch, new Dictionary<PartitionKey, long>()),
            Normalised(normaliser, batch, new Dictionary<PartitionKey, long>()));
    }

    [Fact]
    public void AnEmptyBatchGivesNoRecordAndTheNextBatchComesOutWhole()
    {
        var normaliser = NewNormaliser(4);
        var batch = Batch();

        Assert.Equal(0, normaliser.Normalise(new SinkBatch([], new Dictionary<PartitionKey, long>()), new Dictionary<PartitionKey, long>(), Ingested).Length);
        Assert.Equal(Normalised(1, batch, new Dictionary<PartitionKey, long>()), Normalised(normaliser, batch, new Dictionary<PartitionKey, long>()));
    }

    private static BatchNormaliser NewNormaliser(int threads) =>
        new(new EcsNormaliser(new Classifier(SiemTestData.ShippedOptions().Classification)), new Pipeline.Consumers.Siem.Detection.DetectionEngine(SiemTestData.ShippedOptions().Detection), threads);

    /// <summary>Stored positions whose lookup fails for one partition, as a store that lost its connection would.</summary>
    private sealed class FailingPositions(PartitionKey failing) : IReadOnlyDictionary<PartitionKey, long>
    {
        public bool TryGetValue(PartitionKey key, out long value)
        {
            if (key == failing) throw new InvalidOperationException($"positions of {key.Topic}[{key.Partition}] unavailable");
            value = 0;
            return false;
        }

        public long this[PartitionKey key] => throw new KeyNotFoundException();
        public IEnumerable<PartitionKey> Keys => [];
        public IEnumerable<long> Values => [];
        public int Count => 0;
        public bool ContainsKey(PartitionKey key) => TryGetValue(key, out _);
        public IEnumerator<KeyValuePair<PartitionKey, long>> GetEnumerator() => Enumerable.Empty<KeyValuePair<PartitionKey, long>>().GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
