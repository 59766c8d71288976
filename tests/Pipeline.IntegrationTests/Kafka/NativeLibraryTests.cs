using Pipeline.Kafka;

namespace Pipeline.IntegrationTests.Kafka;

public sealed class NativeLibraryTests
{
    [Fact]
    public void TheNativeLibraryConfluentKafkaLoadsIsVersion2_15_1()
    {
        Assert.Equal("2.15.1", Confluent.Kafka.Library.VersionString);
        Assert.Equal("2.15.1", KafkaNative.Version);
    }
}
