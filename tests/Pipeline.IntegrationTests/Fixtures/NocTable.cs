using System.Net;
using Confluent.Kafka;
using Dapper;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>What the NOC sink wrote, read back and held to what Kafka holds.</summary>
internal static class NocTable
{
    /// <summary>
    /// Every record of the topic is exactly one row: as many rows as the topic's end offsets add up to,
    /// no (topic, partition, offset) twice, no id twice, and per partition the offsets 0..end-1 all there.
    /// </summary>
    public static async Task AssertExactlyOneRowPerRecordAsync(TemporaryDatabase db, string bootstrapServers, string topic, int partitions)
    {
        var ends = EndOffsets(bootstrapServers, topic, partitions);
        await using var connection = db.Open();
        var totals = await connection.QuerySingleAsync<(long Rows, long Positions, long Ids)>("""
            select count(*), count(distinct (topic, kafka_partition, kafka_offset)), count(distinct id) from events where topic = @topic
            """, new { topic });
        Assert.Equal(ends.Values.Sum(), totals.Rows);
        Assert.Equal(totals.Rows, totals.Positions);
        Assert.Equal(totals.Rows, totals.Ids);
        var perPartition = (await connection.QueryAsync<(int Partition, long Rows, long Min, long Max)>("""
            select kafka_partition, count(*), min(kafka_offset), max(kafka_offset) from events where topic = @topic group by kafka_partition
            """, new { topic })).ToDictionary(p => p.Partition);
        foreach (var (partition, end) in ends.Where(e => e.Value > 0))
        {
            Assert.True(perPartition.TryGetValue(partition, out var p), $"no rows from partition {partition}");
            Assert.Equal((end, 0L, end - 1), (p.Rows, p.Min, p.Max));
        }
        // The stored progress is the end of every partition: nothing would be read again.
        var stored = (await connection.QueryAsync<(int Partition, long Next)>(
            "select partition, next_offset from consumer_offsets where topic = @topic", new { topic })).ToList();
        foreach (var (partition, end) in ends.Where(e => e.Value > 0))
            Assert.Contains(stored, s => s.Partition == partition && s.Next == end);
    }

    /// <summary>Every row holds exactly the fields of the envelope its id names, and its payload is that envelope.</summary>
    public static async Task AssertFieldsAsSentAsync(TemporaryDatabase db, NocStream stream, string topic)
    {
        await using var connection = db.Open();
        var rows = await connection.QueryAsync<Row>("""
            select id, received_at as ReceivedAt, event_time as EventTime, kind, host, app, facility, severity, message,
                   host(source_ip) as SourceIp, transport, edge, tenant, sample_rate as SampleRate, stream_id as StreamId,
                   parse_status as ParseStatus, topic, kafka_partition as Partition,
                   payload->>'id' as PayloadId, payload->>'message' as PayloadMessage, (payload->'payload'->>'n')::int as PayloadN
            from events where topic = @topic
            """, new { topic });
        var checkedRows = 0;
        foreach (var row in rows)
        {
            var i = NocStream.IndexOf(row.Id);
            var e = stream.Event(i);
            Assert.Equal(e.ReceivedAt.UtcDateTime, row.ReceivedAt.ToUniversalTime());
            Assert.Equal(e.Syslog?.Timestamp?.UtcDateTime, row.EventTime?.ToUniversalTime());
            Assert.Equal(e.Kind, row.Kind);
            Assert.Equal(e.Syslog?.Hostname, row.Host);
            Assert.Equal(e.Syslog?.AppName, row.App);
            Assert.Equal((short?)e.Syslog?.Facility, row.Facility);
            Assert.Equal((short?)e.Syslog?.Severity, row.Severity);
            Assert.Equal(e.Message, row.Message);
            Assert.Equal(IPAddress.Parse(e.Source.Ip!), IPAddress.Parse(row.SourceIp!));
            Assert.Equal(e.Source.Transport, row.Transport);
            Assert.Equal(e.Source.Edge, row.Edge);
            Assert.Equal(e.Tenant, row.Tenant);
            Assert.Equal(e.SampleRate, row.SampleRate);
            Assert.Equal(e.Stream?.Id, row.StreamId);
            Assert.Equal(e.ParseStatus, row.ParseStatus);
            Assert.Equal(topic, row.Topic);
            Assert.Equal(e.Id, row.PayloadId);
            Assert.Equal(e.Message, row.PayloadMessage);
            Assert.Equal(e.Payload is null ? null : i, row.PayloadN);
            checkedRows++;
        }
        Assert.Equal(stream.Count, checkedRows);

        var streams = (await connection.QueryAsync<(string Id, string Agent)>("select id, headers->>'user-agent' from streams")).ToList();
        Assert.Equal(NocStream.StreamIds, streams.Count);
        foreach (var s in streams)
        {
            var n = int.Parse(s.Id.AsSpan("stream-".Length), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(NocStream.UserAgentOf(n), s.Agent);
        }
    }

    public static Dictionary<int, long> EndOffsets(string bootstrapServers, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "marks-" + Guid.NewGuid().ToString("N") })
            .SetLogHandler((_, _) => { }).Build();
        return Enumerable.Range(0, partitions).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    private sealed class Row
    {
        public string Id { get; set; } = "";
        public DateTime ReceivedAt { get; set; }
        public DateTime? EventTime { get; set; }
        public string Kind { get; set; } = "";
        public string? Host { get; set; }
        public string? App { get; set; }
        public short? Facility { get; set; }
        public short? Severity { get; set; }
        public string? Message { get; set; }
        public string? SourceIp { get; set; }
        public string? Transport { get; set; }
        public string? Edge { get; set; }
        public string? Tenant { get; set; }
        public int SampleRate { get; set; }
        public string? StreamId { get; set; }
        public string? ParseStatus { get; set; }
        public string Topic { get; set; } = "";
        public int Partition { get; set; }
        public string? PayloadId { get; set; }
        public string? PayloadMessage { get; set; }
        public int? PayloadN { get; set; }
    }
}
