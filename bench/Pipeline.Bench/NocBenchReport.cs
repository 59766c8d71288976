using System.Globalization;
using System.Text;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Bench;

/// <summary>
/// The markdown section <see cref="NocBench"/> prints and appends to its --out file. Its wording and columns
/// are compared by people across runs, so it changes only on purpose, apart from the measuring.
/// </summary>
internal static class NocBenchReport
{
    public static string Render(int events, int partitions, int brokers, List<ConsumedRecord> records, List<NocContenderResult> results,
        (double OnePassNs, double FormerNs) decode, string[] args)
    {
        var c = CultureInfo.InvariantCulture;
        var rounds = results.Max(r => r.Round) + 1;
        var byName = results.GroupBy(r => r.Name).ToList();
        var rawName = byName[0].Key;
        double RawIn(int round) => results.First(r => r.Name == rawName && r.Round == round).RowsPerSecond;
        var text = new StringBuilder();
        text.AppendLine("## NOC sink: Kafka → PostgreSQL");
        text.AppendLine();
        text.Append(c, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, .NET {Environment.Version}, PostgreSQL from infra/postgres/cluster.sh on the same machine. ")
            .Append(c, $"{events:N0} syslog envelopes as the edge writes them (avg {records.Average(r => r.Value.Length):N0} bytes), pre-loaded (lz4, spread evenly) into {partitions} partitions of the embedded (librdkafka mock) cluster with {brokers} brokers. ")
            .AppendLine("Every contender writes the same rows into the same `events` table (primary key, host and errors indexes, jsonb payload; two day partitions), each on a fresh database after a CHECKPOINT.");
        text.AppendLine();
        text.AppendLine("```");
        text.AppendLine("bash infra/setup.sh && dotnet run -c Release --project bench/Pipeline.Bench --no-build -- noc" + (args.Length > 0 ? " " + string.Join(' ', args) : ""));
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine(c, $"| contender | rows/s (median of {rounds}) | vs psql COPY in the same round (median) | rows/s in each round | CPU busy (both cores, median) | notes |");
        text.AppendLine("|---|---:|---:|---|---:|---|");
        foreach (var group in byName)
        {
            var runs = group.OrderBy(r => r.Round).ToList();
            var ratio = BenchSupport.Median(runs.Select(r => r.RowsPerSecond / RawIn(r.Round)));
            text.AppendLine(c, $"| {group.Key} | {BenchSupport.Median(runs.Select(r => r.RowsPerSecond)):N0} | {ratio:P0} | {string.Join(" / ", runs.Select(r => r.RowsPerSecond.ToString("N0", c)))} | {BenchSupport.Median(runs.Select(r => r.CpuBusy)):P0} | {runs[0].Notes} |");
        }
        text.AppendLine();
        text.AppendLine(c, $"Decoding a record into a row on the client, single-threaded: {decode.OnePassNs:N0} ns with the sink's one-pass reader (text and payload columns are slices of the record), {decode.FormerNs:N0} ns the former way (envelope deserialised, then the whole value decoded again to a string for jsonb).");
        text.AppendLine();
        text.AppendLine("The NOC sink's clock starts once the group has its partitions and stops when the runtime has committed the last batch; it includes reading from Kafka and decoding each envelope, which psql and the INSERT writer are spared (their rows are decoded before the clock starts). CPU busy is the share of both cores' time spent outside idle during the contender, machine-wide (PostgreSQL, psql, the bench process with its embedded Kafka).");
        return text.ToString();
    }
}
