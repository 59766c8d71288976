namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Trait values that pick tests out of the suite: <c>dotnet test --filter Category=ExternalKafka</c>.</summary>
internal static class TestCategories
{
    /// <summary>
    /// The subset CI also runs against a Kafka reached only by its address (PIPELINE_TEST_KAFKA=host:port, an
    /// embedded cluster run apart by <c>infra/ops.sh embedded-kafka</c>), so that path keeps working.
    /// </summary>
    public const string ExternalKafka = "ExternalKafka";
}
