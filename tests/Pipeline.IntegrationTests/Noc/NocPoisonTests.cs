using System.Globalization;
using System.Text;
using Dapper;
using Pipeline.Core;
using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>Records the NOC sink can never write go to <c>dlq.noc_team</c>; the partition moves on.</summary>
public sealed class NocPoisonTests
{
    [EmbeddedKafkaFact("reads the dead-letter topic of the group noc_team, which a shared Kafka keeps from earlier runs")]
    public async Task RecordsThatAreNotEnvelopesOrThatPostgresRefusesGoToTheDeadLetterTopicWithTheirReasonAndTheRecordsAfterThemAreWritten()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: 6);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var topic = "noc-poison-" + Guid.NewGuid().ToString("N")[..8];
        pipeline.Kafka.CreateTopic(topic, 6);
        var stream = new NocStream(300);
        var nul = stream.Event(0);
        nul.Id = "01POISON0000000000000000NU";
        nul.Message = "link down\u0000 on ge-0/0/1";
        // In one partition and one batch: good records, then each poison record, then good records again.
        var values = new List<byte[]>();
        values.AddRange(Enumerable.Range(0, 100).Select(i => EnvelopeCodec.Encode(stream.Event(i))));
        values.Add("<13>Oct 11 22:14:15 not json at all {"u8.ToArray());                   // offset 100
        values.AddRange(Enumerable.Range(100, 100).Select(i => EnvelopeCodec.Encode(stream.Event(i))));
        values.Add(EnvelopeCodec.Encode(nul));                                               // offset 201
        values.AddRange(Enumerable.Range(200, 50).Select(i => EnvelopeCodec.Encode(stream.Event(i))));
        values.Add("{\"hello\":\"an object, not an envelope\"}"u8.ToArray());                 // offset 252
        values.AddRange(Enumerable.Range(250, 50).Select(i => EnvelopeCodec.Encode(stream.Event(i))));
        NocStream.ProduceRaw(pipeline.Kafka.BootstrapServers, topic, values);

        const string Group = "noc_team";
        var noc = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, Group, topic);
        await NocConsumers.WaitForRowsAsync(db, topic, 300, TimeSpan.FromMinutes(1), noc);
        await Eventually.True(async () => (await MetricsText.ScrapeAsync(noc)).Sum("consumer_records_total", ("group", Group), ("outcome", "dead_lettered")) >= 3,
            TimeSpan.FromSeconds(30), "three records dead-lettered");

        var dead = TopicReader.Read(pipeline.Kafka.BootstrapServers, Topics.DeadLetter(Group), 3, TimeSpan.FromSeconds(30))
            .OrderBy(r => long.Parse(Header(r.Message.Headers, KafkaHeaders.DlqOffset), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal("dlq.noc_team", Topics.DeadLetter(Group));
        Assert.Equal(3, dead.Count);
        Assert.Equal(["100", "201", "252"], dead.Select(d => Header(d.Message.Headers, KafkaHeaders.DlqOffset)));
        Assert.All(dead, d =>
        {
            Assert.Equal(topic, Header(d.Message.Headers, KafkaHeaders.DlqTopic));
            Assert.Equal("0", Header(d.Message.Headers, KafkaHeaders.DlqPartition));
            Assert.Equal(Group, Header(d.Message.Headers, KafkaHeaders.DlqGroup));
        });
        // The original bytes, untouched, with why they were refused.
        Assert.Equal(values[100], dead[0].Message.Value);
        Assert.Equal(values[201], dead[1].Message.Value);
        Assert.Equal(values[252], dead[2].Message.Value);
        Assert.Contains("not a v1 envelope", Header(dead[0].Message.Headers, KafkaHeaders.DlqReason), StringComparison.Ordinal);
        Assert.Matches("^22(021|P05): ", Header(dead[1].Message.Headers, KafkaHeaders.DlqReason));
        Assert.Contains("no id", Header(dead[2].Message.Headers, KafkaHeaders.DlqReason), StringComparison.Ordinal);

        // Every record around them was written, and the stored position is past the last one.
        await using var connection = db.Open();
        var ids = (await connection.QueryAsync<string>("select id from events where topic = @topic", new { topic })).Select(NocStream.IndexOf).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 300), ids);
        Assert.Equal(values.Count, await connection.ExecuteScalarAsync<long>(
            "select next_offset from consumer_offsets where group_id = @Group and topic = @topic and partition = 0", new { Group, topic }));
        // The counter moves just after a write's transaction commits: wait for it, then hold it to exactly the records.
        var metrics = await MetricsText.WhenWrittenAsync(noc, Group, 300, TimeSpan.FromSeconds(30));
        Assert.Equal(300, metrics.Sum("consumer_records_total", ("group", Group), ("outcome", "written")));
        Assert.Equal(3, metrics.Sum("consumer_records_total", ("group", Group), ("outcome", "dead_lettered")));
        Assert.Equal(0, metrics.Sum("consumer_write_retries_total", ("group", Group)));
        await noc.StopAsync();
    }

    [KafkaFact]
    public async Task WhenOnePartOfABatchWrittenInPartsIsRefusedThePartAlreadyCommittedIsNotWrittenAgain()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 2);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var topic = "noc-parts-" + Guid.NewGuid().ToString("N")[..8];
        pipeline.Kafka.CreateTopic(topic, 2);
        var stream = new NocStream(1200);
        // Partition 0: 600 good records. Partition 1: 300 good, one PostgreSQL refuses (a NUL in its message), 299 good.
        // Read as one batch of 1,201 records, it is written in two parts (one per partition): the first commits, the
        // second fails on the poison record, and the runtime writes what is left again around it.
        NocStream.ProduceRaw(pipeline.Kafka.BootstrapServers, topic, Enumerable.Range(0, 600).Select(i => EnvelopeCodec.Encode(stream.Event(i))), partition: 0);
        var nul = stream.Event(1199);
        nul.Id = "01POISON0000000000000000NU";
        nul.Message = "link down\u0000 on ge-0/0/1";
        var second = Enumerable.Range(600, 300).Select(i => EnvelopeCodec.Encode(stream.Event(i)))
            .Append(EnvelopeCodec.Encode(nul))
            .Concat(Enumerable.Range(900, 299).Select(i => EnvelopeCodec.Encode(stream.Event(i))));
        NocStream.ProduceRaw(pipeline.Kafka.BootstrapServers, topic, second, partition: 1);

        const string Group = "noc_parts";
        var noc = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, Group, topic, ["--batch-size", "5000", "--batch-linger", "00:00:00.500", "--Postgres:RowsPerConnection=500"]);
        await NocConsumers.WaitForRowsAsync(db, topic, 1199, TimeSpan.FromMinutes(1), noc);
        await Eventually.True(async () => (await MetricsText.ScrapeAsync(noc)).Sum("consumer_records_total", ("group", Group), ("outcome", "dead_lettered")) >= 1,
            TimeSpan.FromSeconds(30), "the poison record dead-lettered");

        await using var connection = db.Open();
        var ids = (await connection.QueryAsync<string>("select id from events where topic = @topic", new { topic })).Select(NocStream.IndexOf).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 1199), ids);
        // Partition 0's rows committed in the first part's transaction, before partition 1's were written around the poison.
        var transactions = (await connection.QueryAsync<(int Partition, string Xmin)>(
            "select distinct kafka_partition, xmin::text from events where topic = @topic", new { topic })).ToList();
        Assert.Single(transactions, t => t.Partition == 0);
        Assert.DoesNotContain(transactions, t => t.Partition == 1 && t.Xmin == transactions.Single(z => z.Partition == 0).Xmin);
        var positions = (await connection.QueryAsync<(int Partition, long Next)>(
            "select partition, next_offset from consumer_offsets where group_id = @Group and topic = @topic order by partition", new { Group, topic })).ToList();
        Assert.Equal([(0, 600L), (1, 600L)], positions);
        var metrics = await MetricsText.WhenWrittenAsync(noc, Group, 1199, TimeSpan.FromSeconds(30));
        Assert.Equal(1199, metrics.Sum("consumer_records_total", ("group", Group), ("outcome", "written")));
        await noc.StopAsync();
    }

    private static string Header(Confluent.Kafka.Headers headers, string name) =>
        headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : throw new Xunit.Sdk.XunitException($"no {name} header");
}
