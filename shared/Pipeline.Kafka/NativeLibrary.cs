using Pipeline.Kafka.Native;

namespace Pipeline.Kafka;

/// <summary>Facts about the librdkafka build in use.</summary>
public static class KafkaNative
{
    /// <summary>The version the loaded librdkafka reports through the pipeline's own binding (e.g. "2.16.0").</summary>
    public static string Version
    {
        get
        {
            LoadedLibrary.Ensure();
            return LibRdKafka.Version;
        }
    }

    /// <summary>The librdkafka version the pipeline's own binding was written for; it must equal <see cref="Version"/>.</summary>
    public static string BindingWrittenFor => LibRdKafka.WrittenFor;

    /// <summary>The file of the loaded librdkafka (one of the builds the librdkafka.redist package ships).</summary>
    public static string LoadedFrom => LoadedLibrary.Path;
}
