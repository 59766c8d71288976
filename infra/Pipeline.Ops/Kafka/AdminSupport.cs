using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Pipeline.Ops.Kafka;

/// <summary>
/// Whether the cluster answers the admin API that goes through its controller (CreateTopics,
/// DescribeConfigs of topics). The embedded cluster has no controller, and such a request would wait out its
/// whole timeout; asking one broker for its own configs fails at once there and succeeds on Kafka.
/// </summary>
internal static class AdminSupport
{
    /// <summary>Null when the admin API is there, else why not.</summary>
    public static string? Problem(IAdminClient admin)
    {
        Metadata metadata;
        try
        {
            metadata = admin.GetMetadata(KafkaConnection.RequestTimeout);
        }
        catch (KafkaException ex)
        {
            return ex.Error.Reason;
        }
        var broker = metadata.Brokers.FirstOrDefault()?.BrokerId ?? metadata.OriginatingBrokerId;
        try
        {
            admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = broker.ToString(CultureInfo.InvariantCulture) }],
                new DescribeConfigsOptions { RequestTimeout = KafkaConnection.RequestTimeout }).GetAwaiter().GetResult();
            return null;
        }
        catch (KafkaException ex)
        {
            return ex.Error.Reason;
        }
    }
}
