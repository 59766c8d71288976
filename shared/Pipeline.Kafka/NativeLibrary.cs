using Pipeline.Kafka.Native;

namespace Pipeline.Kafka;

/// <summary>Facts about the librdkafka build in use.</summary>
public static class KafkaNative
{
    /// <summary>The version the loaded librdkafka reports (e.g. "2.15.1").</summary>
    public static string Version
    {
        get
        {
            Confluent.Kafka.Library.Load();
            return LibRdKafka.Version;
        }
    }
}
