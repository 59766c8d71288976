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
        IReadOnlyDictionary<PartitionKey, long> archived)
    {
        var normaliser = new BatchNormaliser(new EcsNormaliser(new Classifier(SiemTestData.ShippedOptions().Classification)), new Pipeline.Consumers.Siem.Detection.DetectionEngine(SiemTestData.ShippedOptions().Detection), threads);
        var result = new List<(bool, bool, string?, DateTimeOffset?, string, string)>();
        foreach (var r in normaliser.Normalise(batch, archived, Ingested))
            result.Add((r.Skipped, r.Unreadable, r.Rule?.Name, r.EventTime, r.Skipped ? "" : Encoding.UTF8.GetString(normaliser.Json(r)),
                r.Observation is { } o ? $"{o.Classification} {o.Time:O} {o.Id} {string.Join(',', o.Keys)}" : ""));
        return result;
    }

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
        var normaliser = new BatchNormaliser(new EcsNormaliser(new Classifier(SiemTestData.ShippedOptions().Classification)), new Pipeline.Consumers.Siem.Detection.DetectionEngine(SiemTestData.ShippedOptions().Detection), 2);
        var batch = Batch();
        var first = normaliser.Normalise(batch, new Dictionary<PartitionKey, long>(), Ingested).ToArray().Select(r => Encoding.UTF8.GetString(normaliser.Json(r))).ToList();
        var small = new SinkBatch(batch.Records.Take(5).ToList(), new Dictionary<PartitionKey, long>());

        var second = normaliser.Normalise(small, new Dictionary<PartitionKey, long>(), Ingested).ToArray().Select(r => Encoding.UTF8.GetString(normaliser.Json(r))).ToList();

        Assert.Equal(first.Take(5), second);
    }
}
