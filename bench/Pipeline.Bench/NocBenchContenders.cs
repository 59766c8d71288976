using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pipeline.Consumers.Postgres;
using Pipeline.Core.Hosting;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;
using Pipeline.Kafka.Embedded;
using Pipeline.Testing;

namespace Pipeline.Bench;

/// <summary>What one contender of <see cref="NocBench"/> did in one round: its rows, wall time and the machine's CPU meanwhile.</summary>
internal sealed record NocContenderResult(string Name, long Rows, TimeSpan Elapsed, MachineCpu Used, string Notes)
{
    public int Round { get; init; }

    public double RowsPerSecond => Rows / Elapsed.TotalSeconds;
    public double CpuBusy => Used.Busy;
}

/// <summary>
/// The writers <see cref="NocBench"/> sets side by side, each given a fresh database's connection string and
/// checked afterwards to have written every row: psql's COPY (the raw limit), the NOC sink as it runs, and a
/// plain INSERT writer. Kept apart from the bench's rounds so each contender reads as one measurement.
/// </summary>
internal static class NocBenchContenders
{
    /// <summary>The raw limit: psql reads the CSV file and streams it to the server with COPY.</summary>
    public static NocContenderResult PsqlCopy(string connectionString, string csv, int events)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var info = new ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username!, "-d", builder.Database!,
            "-v", "ON_ERROR_STOP=1", "-c", $"\\copy events ({PlainEventRow.Columns}) from '{csv}' with (format csv)" })
            info.ArgumentList.Add(arg);
        info.Environment["PGPASSWORD"] = builder.Password;
        var cpu = MachineCpu.Now();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var elapsed = clock.Elapsed;
        var used = MachineCpu.Now() - cpu;
        if (process.ExitCode != 0) throw new InvalidOperationException("psql failed: " + stderr);
        NocBenchDatabase.CheckEventCount(connectionString, events);
        return new NocContenderResult("psql `\\copy` from a CSV file (raw limit)", events, elapsed, used, stdout.Trim());
    }

    /// <summary>The NOC sink as it runs: the consumer runtime and PostgresSink in this process, the clock started once the group has its partitions.</summary>
    public static NocContenderResult NocSink(EmbeddedKafkaCluster kafka, string connectionString, int batch, int writers, int events)
    {
        using var dataSource = NpgsqlDataSource.Create(connectionString);
        var group = "noc_bench_" + batch.ToString(CultureInfo.InvariantCulture) + "_" + Guid.NewGuid().ToString("N")[..6];
        var sink = new PostgresSink(dataSource, new EventPartitions(dataSource), new MetricPartitions(dataSource), group,
            new PostgresOptions { WriteConnections = writers });
        var options = new ConsumerOptions { Group = group, Topics = NocBench.Topic, BatchSize = batch, BatchMaxWait = TimeSpan.FromMilliseconds(500) };
        using var registry = new InProcessMetrics();
        var runtime = new ConsumerRuntime(options, new KafkaOptions { BootstrapServers = kafka.BootstrapServers }, sink, registry, new HealthState(),
            TimeProvider.System, NullLogger<ConsumerRuntime>.Instance);
        var joining = Stopwatch.StartNew();
        runtime.StartAsync(default).GetAwaiter().GetResult();
        try
        {
            BenchSupport.WaitForAssignment(runtime);
            var joined = joining.Elapsed;
            var cpu = MachineCpu.Now();
            var clock = Stopwatch.StartNew();
            while (registry.Sum("consumer_records_total", ("outcome", "written")) < events)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("not done after 10 minutes");
                Thread.Sleep(5);
            }
            var elapsed = clock.Elapsed;
            var used = MachineCpu.Now() - cpu;
            NocBenchDatabase.CheckEventCount(connectionString, events);
            var batches = registry.Sum("consumer_batches_total");
            var how = writers == 1 ? "one transaction per batch" : $"parts of whole partitions on up to {writers} connections at once";
            return new NocContenderResult($"NOC sink, batches of {batch:N0} (Kafka → runtime → binary COPY + offsets, {how})", events, elapsed, used,
                $"{batches:N0} batches; group join {joined.TotalSeconds:F1} s not counted");
        }
        finally
        {
            runtime.StopAsync(default).GetAwaiter().GetResult();
            runtime.Dispose();
        }
    }

    /// <summary>A plain writer: multi-row INSERT statements of 200 rows, each its own transaction, from rows decoded beforehand.</summary>
    public static NocContenderResult Inserts(string connectionString, List<PlainEventRow> rows)
    {
        const int PerStatement = 200;
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        var sql = Statement(PerStatement);
        var cpu = MachineCpu.Now();
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < rows.Count; start += PerStatement)
        {
            var count = Math.Min(PerStatement, rows.Count - start);
            using var command = new NpgsqlCommand((count == PerStatement ? sql : Statement(count)).ToString(), connection);
            for (var i = start; i < start + count; i++) rows[i].AddParameters(command);
            command.ExecuteNonQuery();
        }
        var elapsed = clock.Elapsed;
        var used = MachineCpu.Now() - cpu;
        NocBenchDatabase.CheckEventCount(connectionString, rows.Count);
        return new NocContenderResult("INSERT … VALUES of 200 rows per statement (plain batched writer)", rows.Count, elapsed, used, $"{(rows.Count + PerStatement - 1) / PerStatement:N0} statements, rows decoded beforehand");

        static StringBuilder Statement(int count)
        {
            var text = new StringBuilder($"insert into events ({PlainEventRow.Columns}) values ");
            for (var r = 0; r < count; r++)
            {
                if (r > 0) text.Append(',');
                text.Append('(');
                for (var c = 0; c < 20; c++) text.Append(c == 0 ? "" : ",").Append('$').Append(r * 20 + c + 1);
                text.Append(')');
            }
            return text;
        }
    }
}
