namespace Pipeline.Bench;

/// <summary>One consumer group's figures at one rate, from its worker's scrapes and process CPU.</summary>
internal sealed record FreshnessGroupResult(string Group, PromHistogram Whole, PromHistogram Steady, double CatchUpSeconds, double CpuSeconds, long Written,
    PromHistogram SteadyWrites, PromHistogram SteadyBatches);

/// <summary>
/// One rate's run of the e2e bench: what was sent, each group's figures, the edge's, and the NOC table's exact
/// freshness. Whether it kept up lives here because both the --ladder walk and the report ask it.
/// </summary>
internal sealed record FreshnessRunResult(int Rate, long Sent, double SendSeconds, List<FreshnessGroupResult> Groups, PromHistogram EdgeAck, double EdgeCpu, double HostCpu,
    (long Rows, double P50, double P99, double Max) NocWhole, (long Rows, double P50, double P99, double Max) NocSteady, NocStartup.Timeline NocStart)
{
    /// <summary>Seconds of the start shown one by one from the NOC table.</summary>
    public const int StartUpSeconds = 12;

    /// <summary>The objective a group keeps up by: freshness p99 over the whole run (start included) at most this.</summary>
    public const double KeepUpP99Seconds = 5;

    /// <summary>Every group kept up: each wrote every event (nothing lost, exactly once in the NOC table) with p99 freshness ≤ 5 s.</summary>
    public bool KeepsUp =>
        Groups.All(g => g.Written >= Sent && g.Whole.Quantile(0.99) <= KeepUpP99Seconds) && NocWhole.Rows == Sent;
}
