using System.Globalization;
using System.Text;

namespace Pipeline.Bench;

/// <summary>
/// The markdown tables the e2e bench prints and writes to its --out file. Their wording and columns are compared
/// by people across runs, so they change only on purpose, apart from the measuring.
/// </summary>
internal static class FreshnessReport
{
    public static string Render(List<FreshnessRunResult> results, FreshnessSettings settings, string load)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Freshness, whole pipeline from a cold start, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {System.Environment.ProcessorCount} cores, load average {load} when it began.");
        text.AppendLine(c, $"Embedded Kafka ({settings.Brokers} brokers, {settings.Partitions} partitions per topic, in the benchmark process), edge, NOC, SIEM and top-k as processes; TCP for {settings.Seconds} s at each rate, sending from {(settings.StartWhen == FreshnessStart.WorkersAssigned ? "when every worker held its partitions" : "when the edge took connections (the workers still starting)")}.");
        text.AppendLine(c, $"Freshness = end of the sink's write − the edge's receipt, from each worker's consumer_freshness_seconds (quantiles interpolated in buckets; ≤ 1 s is exact). \"steady\": records written after the first {settings.SteadyAfter} s.");
        text.AppendLine();
        text.AppendLine("| rate/s | group | p50 s | p99 s | ≤ 1 s | max ≤ s | steady p50 s | steady p99 s | steady max ≤ s | catch-up s | CPU µs/event |");
        text.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            foreach (var g in r.Groups)
            {
                text.AppendLine(c, $"| {r.Rate:N0} | {g.Group} | {g.Whole.Quantile(0.5):F3} | {g.Whole.Quantile(0.99):F3} | {100 * g.Whole.ShareAtOrBelow(1):F2} % | {g.Whole.MaxBound():0.###} | {g.Steady.Quantile(0.5):F3} | {g.Steady.Quantile(0.99):F3} | {g.Steady.MaxBound():0.###} | {g.CatchUpSeconds:F1} | {1e6 * g.CpuSeconds / Math.Max(1, r.Sent):F1} |");
            }
            text.AppendLine(c, $"| {r.Rate:N0} | edge (receipt → Kafka ack) | {r.EdgeAck.Quantile(0.5):F3} | {r.EdgeAck.Quantile(0.99):F3} | {100 * r.EdgeAck.ShareAtOrBelow(1):F2} % | {r.EdgeAck.MaxBound():0.###} | | | | | {1e6 * r.EdgeCpu / Math.Max(1, r.Sent):F1} |");
        }
        text.AppendLine();
        text.AppendLine(c, $"Where a group's steady time goes (after the first {settings.SteadyAfter} s): the sink's writes (consumer_write_duration_seconds) and their size (consumer_write_batch_records); freshness beyond the write is Kafka, fetching and the batch waiting for the write before it.");
        text.AppendLine();
        text.AppendLine("| rate/s | group | writes/s | write p50 s | write p99 s | records per write p50 | freshness p50 − write p50 s |");
        text.AppendLine("|---:|---|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            foreach (var g in r.Groups)
                text.AppendLine(c, $"| {r.Rate:N0} | {g.Group} | {g.SteadyWrites.Count / Math.Max(1, r.SendSeconds - settings.SteadyAfter):F1} | {g.SteadyWrites.Quantile(0.5):F3} | {g.SteadyWrites.Quantile(0.99):F3} | {g.SteadyBatches.Quantile(0.5):F0} | {g.Steady.Quantile(0.5) - g.SteadyWrites.Quantile(0.5):F3} |");
        text.AppendLine();
        text.AppendLine("NOC, exact from its table (inserted_at is the transaction's start, a little before its commit):");
        text.AppendLine();
        text.AppendLine("| rate/s | sent | rows | p50 s | p99 s | max s | steady p50 s | steady p99 s | steady max s | Kafka + sender CPU µs/event |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            text.AppendLine(c, $"| {r.Rate:N0} | {r.Sent:N0} | {r.NocWhole.Rows:N0} | {r.NocWhole.P50:F3} | {r.NocWhole.P99:F3} | {r.NocWhole.Max:F3} | {r.NocSteady.P50:F3} | {r.NocSteady.P99:F3} | {r.NocSteady.Max:F3} | {1e6 * r.HostCpu / Math.Max(1, r.Sent):F1} |");
        text.AppendLine();
        NocStartup.Append(text, [.. results.Select(r => (r.Rate, r.NocStart))]);
        text.AppendLine(c, $"Keeping up: every group wrote every event (the NOC table holds each once) with freshness p99 ≤ {FreshnessRunResult.KeepUpP99Seconds} s over the whole run, start included.");
        text.AppendLine();
        text.AppendLine("| rate/s | slowest group | its p99 s | every event in every group | keeps up |");
        text.AppendLine("|---:|---|---:|---|---|");
        foreach (var r in results)
        {
            var slowest = r.Groups.MaxBy(g => g.Whole.Quantile(0.99))!;
            var complete = r.Groups.All(g => g.Written >= r.Sent) && r.NocWhole.Rows == r.Sent;
            text.AppendLine(c, $"| {r.Rate:N0} | {slowest.Group} | {slowest.Whole.Quantile(0.99):F3} | {(complete ? "yes" : "no")} | {(r.KeepsUp ? "yes" : "no")} |");
        }
        var best = results.Where(r => r.KeepsUp).Select(r => r.Rate).DefaultIfEmpty().Max();
        text.AppendLine();
        text.AppendLine(c, $"Highest rate tried at which every group kept up: {(best > 0 ? best.ToString("N0", c) + " events/s" : "none")}.");
        return text.ToString();
    }
}
