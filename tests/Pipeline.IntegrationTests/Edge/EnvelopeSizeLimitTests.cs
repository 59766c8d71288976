using System.Collections.Concurrent;
using Confluent.Kafka;
using Pipeline.Core;
using Pipeline.Edge.Publishing;
using Pipeline.Kafka;
using Pipeline.Kafka.Embedded;
using Pipeline.Kafka.Producing;

namespace Pipeline.IntegrationTests.Edge;

/// <summary>The margin <see cref="EnvelopeSizeLimit"/> keeps is enough for the real producer, and needed.</summary>
public sealed class EnvelopeSizeLimitTests
{
    private static readonly KeyValuePair<string, byte[]>[] EnvelopeHeaders =
        [new(KafkaHeaders.Schema, "1"u8.ToArray()), new(KafkaHeaders.ContentType, "application/json"u8.ToArray())];

    [Theory]
    [InlineData(16_384)]
    [InlineData(1_000_000)]
    public void TheLargestEnvelopeTheLimitLetsThroughWithTheLongestHostKeyIsDeliveredWhileKeyAndValueFillingMessageMaxBytesAreRefused(int messageMaxBytes)
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        var topic = "t-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, partitions: 1);
        var limit = new EnvelopeSizeLimit(messageMaxBytes);
        var settings = new ProducerSettings { MessageMaxBytes = messageMaxBytes };
        var config = ProducerFactory.Config(new KafkaOptions { BootstrapServers = cluster.BootstrapServers }, settings, "limit-test");
        var reports = new ConcurrentDictionary<long, ErrorCode>();
        using var producer = new BatchedAckProducer(config, EnvelopeHeaders, batch =>
        {
            foreach (var d in batch) reports[d.Opaque] = d.Error;
        }, _ => { });

        var key = new byte[255];
        key.AsSpan().Fill((byte)'h');
        var largest = new byte[limit.MaxEnvelopeBytes(key.Length)];
        largest.AsSpan().Fill((byte)'x');
        Assert.True(limit.Fits(key.Length, largest.Length));
        Assert.False(limit.Fits(key.Length, largest.Length + 1));
        var filling = new byte[messageMaxBytes - key.Length];

        Assert.Equal(ProduceStatus.Queued, producer.TryProduce(topic, key, true, largest, 1, out _));
        var refused = producer.TryProduce(topic, key, true, filling, 2, out var error);
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        Assert.True(SpinWait.SpinUntil(() => reports.ContainsKey(1), TimeSpan.FromSeconds(10)));

        Assert.Equal(ErrorCode.NoError, reports[1]);
        // Without the margin an envelope would pass the check and still be refused by the producer.
        Assert.True(refused == ProduceStatus.Refused || reports.GetValueOrDefault(2) == ErrorCode.MsgSizeTooLarge, $"{refused} {error} {reports.GetValueOrDefault(2)}");
    }
}
