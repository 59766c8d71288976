namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// An edge whose Kafka keeps acknowledging, far slower than events come: a 200-event memory buffer, no linger, and every
/// produce request 50 ms late. What senders that can wait must then do: be held back, never sent through the spool.
/// </summary>
internal static class SlowKafka
{
    public static async Task<EdgeProcess> StartEdgeAsync(PipelineUnderTest pipeline)
    {
        var edge = await pipeline.StartEdgeAsync(["--Edge:Memory:MaxEvents=200", "--Edge:Producer:LingerMs=0"]);
        pipeline.Kafka.SetBrokerLatency(1, TimeSpan.FromMilliseconds(50));
        return edge;
    }

    /// <summary>Nothing went to the spool (for any reason) and nothing was dropped.</summary>
    public static void AssertNothingSpooledOrDropped(MetricsText metrics)
    {
        Assert.Equal(0, metrics.Sum("edge_spool_overflow_total"));
        Assert.Equal(0, metrics.Sum("edge_spool_appended_records_total"));
        Assert.Equal(0, metrics.Sum("edge_events_dropped_total"));
    }
}
