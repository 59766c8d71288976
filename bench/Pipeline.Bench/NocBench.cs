using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Pipeline.Core.Envelope;
using Pipeline.Consumers.Postgres;
using Pipeline.Core.Hosting;
using Pipeline.Testing;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;
using Pipeline.Kafka.Embedded;
using Pipeline.Postgres;

namespace Pipeline.Bench;

/// <summary>
/// <c>Pipeline.Bench noc</c>: rows per second from Kafka into PostgreSQL through the NOC sink (the consumer
/// runtime reading the embedded cluster, binary COPY with offsets in the same transaction), side by side in
/// the same run with the raw limit — <c>psql \copy</c> of the very same rows from a CSV file into the same
/// table — and with a plain writer of 200-row INSERT statements. Each contender gets a fresh database with the
/// same schema (indexes included) and day partitions, after a CHECKPOINT.
/// </summary>
internal static class NocBench
{
    private const string Topic = "syslog";
    private const string Columns =
        "id, received_at, event_time, kind, host, app, facility, severity, message, source_ip, transport, edge, tenant, " +
        "sample_rate, stream_id, parse_status, payload, topic, kafka_partition, kafka_offset";

    public static int Run(string[] args)
    {
        var events = BenchSupport.Arg(args, "--events", 500_000);
        var partitions = BenchKafka.PartitionsFor(events, BenchSupport.ArgText(args, "--partitions") is { } asked ? int.Parse(asked, CultureInfo.InvariantCulture) : null);
        var brokers = BenchSupport.Arg(args, "--brokers", 3);
        var batchSizes = (BenchSupport.ArgText(args, "--batch-sizes") ?? "200,5000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var rounds = BenchSupport.Arg(args, "--rounds", 3);
        // Postgres:WriteConnections of the sink; several (e.g. "1,2") measure each beside the others.
        var connections = (BenchSupport.ArgText(args, "--write-connections") ?? new PostgresOptions().WriteConnections.ToString(CultureInfo.InvariantCulture))
            .Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var output = BenchSupport.ArgText(args, "--out");
        var repository = BenchSupport.Repository();
        var yesterday = DateTime.UtcNow.Date.AddDays(-1);
        // Two calendar days of receive times, so the rows spread over two day partitions.
        var stream = new TopKBenchStream(events, 42, new DateTimeOffset(yesterday.AddHours(12), TimeSpan.Zero), TimeSpan.FromHours(24));

        using var kafka = EmbeddedKafkaCluster.Start(brokers);
        kafka.CreateTopic(Topic, partitions);
        var clock = Stopwatch.StartNew();
        var records = Produce(kafka, stream, partitions);
        BenchKafka.AssertKeptWhole(kafka.BootstrapServers, Topic, partitions);
        Console.WriteLine($"produced {events:N0} envelopes ({records.Sum(r => (long)r.Value.Length) / 1048576.0:N0} MiB) into {partitions} partitions in {clock.Elapsed.TotalSeconds:F1} s");
        var rows = records.Select(EventRow.From).Select(PlainRow.Of).ToList();
        var days = rows.Select(r => DateOnly.FromDateTime(r.ReceivedAt)).Distinct().ToList();

        var admin = BenchSupport.RunScript(Path.Combine(repository, "infra", "postgres", "cluster.sh"), "start", "--database", "postgres");
        var csv = Path.Combine(Path.GetTempPath(), $"noc-bench-{Guid.NewGuid():N}.csv");
        var results = new List<Result>();
        var decode = DecodeCost(records);
        try
        {
            WriteCsv(csv, rows);
            Console.WriteLine($"CSV of the same rows: {new FileInfo(csv).Length / 1048576.0:N0} MiB");
            var contenders = new List<Func<string, Result>> { db => PsqlCopy(db, csv, events) };
            foreach (var batch in batchSizes)
                foreach (var writers in connections)
                    contenders.Add(db => NocSink(kafka, db, batch, writers, events));
            contenders.Add(db => Inserts(db, rows));
            // Each round runs every contender once, starting from a different one, so that a slow spell of
            // this shared machine does not always fall on the same contender.
            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < contenders.Count; k++)
                {
                    var result = WithDatabase(admin, days, contenders[(k + round) % contenders.Count]) with { Round = round };
                    Console.WriteLine($"{result.Name}: {result.RowsPerSecond:N0} rows/s");
                    results.Add(result);
                }
            }
        }
        finally
        {
            File.Delete(csv);
        }
        var report = Report(events, partitions, brokers, records, results, decode, args);
        Console.WriteLine(report);
        if (output is not null) File.AppendAllText(output, "\n" + report);
        return 0;
    }

    /// <summary>The raw limit: psql reads the CSV file and streams it to the server with COPY.</summary>
    private static Result PsqlCopy(string connectionString, string csv, int events)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var info = new ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username!, "-d", builder.Database!,
            "-v", "ON_ERROR_STOP=1", "-c", $"\\copy events ({Columns}) from '{csv}' with (format csv)" })
            info.ArgumentList.Add(arg);
        info.Environment["PGPASSWORD"] = builder.Password;
        var cpu = Cpu.Now();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var elapsed = clock.Elapsed;
        var used = Cpu.Now() - cpu;
        if (process.ExitCode != 0) throw new InvalidOperationException("psql failed: " + stderr);
        Check(connectionString, events);
        return new Result("psql `\\copy` from a CSV file (raw limit)", events, elapsed, used, stdout.Trim());
    }

    /// <summary>The NOC sink as it runs: the consumer runtime and PostgresSink in this process, the clock started once the group has its partitions.</summary>
    private static Result NocSink(EmbeddedKafkaCluster kafka, string connectionString, int batch, int writers, int events)
    {
        using var dataSource = NpgsqlDataSource.Create(connectionString);
        var group = "noc_bench_" + batch.ToString(CultureInfo.InvariantCulture) + "_" + Guid.NewGuid().ToString("N")[..6];
        var sink = new PostgresSink(dataSource, new EventPartitions(dataSource), new MetricPartitions(dataSource), group,
            new PostgresOptions { WriteConnections = writers });
        var options = new ConsumerOptions { Group = group, Topics = Topic, BatchSize = batch, BatchMaxWait = TimeSpan.FromMilliseconds(500) };
        using var registry = new InProcessMetrics();
        var runtime = new ConsumerRuntime(options, new KafkaOptions { BootstrapServers = kafka.BootstrapServers }, sink, registry, new HealthState(),
            TimeProvider.System, NullLogger<ConsumerRuntime>.Instance);
        var joining = Stopwatch.StartNew();
        runtime.StartAsync(default).GetAwaiter().GetResult();
        try
        {
            while (runtime.Assignment.Count == 0)
            {
                if (joining.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException("no partitions assigned");
                Thread.Sleep(5);
            }
            var joined = joining.Elapsed;
            var cpu = Cpu.Now();
            var clock = Stopwatch.StartNew();
            while (registry.Sum("consumer_records_total", ("outcome", "written")) < events)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("not done after 10 minutes");
                Thread.Sleep(5);
            }
            var elapsed = clock.Elapsed;
            var used = Cpu.Now() - cpu;
            Check(connectionString, events);
            var batches = registry.Sum("consumer_batches_total");
            var how = writers == 1 ? "one transaction per batch" : $"parts of whole partitions on up to {writers} connections at once";
            return new Result($"NOC sink, batches of {batch:N0} (Kafka → runtime → binary COPY + offsets, {how})", events, elapsed, used,
                $"{batches:N0} batches; group join {joined.TotalSeconds:F1} s not counted");
        }
        finally
        {
            runtime.StopAsync(default).GetAwaiter().GetResult();
            runtime.Dispose();
        }
    }

    /// <summary>A plain writer: multi-row INSERT statements of 200 rows, each its own transaction, from rows decoded beforehand.</summary>
    private static Result Inserts(string connectionString, List<PlainRow> rows)
    {
        const int PerStatement = 200;
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        var sql = new StringBuilder($"insert into events ({Columns}) values ");
        for (var r = 0; r < PerStatement; r++)
        {
            if (r > 0) sql.Append(',');
            sql.Append('(');
            for (var c = 0; c < 20; c++) sql.Append(c == 0 ? "" : ",").Append('$').Append(r * 20 + c + 1);
            sql.Append(')');
        }
        var cpu = Cpu.Now();
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < rows.Count; start += PerStatement)
        {
            var count = Math.Min(PerStatement, rows.Count - start);
            using var command = new NpgsqlCommand(count == PerStatement ? sql.ToString() : Statement(count), connection);
            for (var i = start; i < start + count; i++) AddParameters(command, rows[i]);
            command.ExecuteNonQuery();
        }
        var elapsed = clock.Elapsed;
        var used = Cpu.Now() - cpu;
        Check(connectionString, rows.Count);
        return new Result("INSERT … VALUES of 200 rows per statement (plain batched writer)", rows.Count, elapsed, used, $"{(rows.Count + PerStatement - 1) / PerStatement:N0} statements, rows decoded beforehand");

        static string Statement(int count)
        {
            var text = new StringBuilder($"insert into events ({Columns}) values ");
            for (var r = 0; r < count; r++)
            {
                if (r > 0) text.Append(',');
                text.Append('(');
                for (var c = 0; c < 20; c++) text.Append(c == 0 ? "" : ",").Append('$').Append(r * 20 + c + 1);
                text.Append(')');
            }
            return text.ToString();
        }
    }

    private static void AddParameters(NpgsqlCommand command, PlainRow r)
    {
        var p = command.Parameters;
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = r.Id });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = r.ReceivedAt });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = (object?)r.EventTime ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = r.Kind });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)r.Host ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)r.App ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Smallint, Value = (object?)r.Facility ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Smallint, Value = (object?)r.Severity ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)r.Message ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Inet, Value = (object?)r.SourceIp ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)r.Transport ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)r.Edge ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)r.Tenant ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = r.SampleRate });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)r.StreamId ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)r.ParseStatus ?? DBNull.Value });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = r.Payload });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = r.Topic });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = r.Partition });
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = r.Offset });
    }

    /// <summary>
    /// Produces the stream keyed by host (as the edge keys syslog), spread evenly over the partitions
    /// (<see cref="BenchKafka"/>), and returns every record as the consumer will read it, with its partition and
    /// offset, so the file and INSERT contenders write the same rows.
    /// </summary>
    private static List<ConsumedRecord> Produce(EmbeddedKafkaCluster kafka, TopKBenchStream stream, int partitions) =>
        BenchKafka.ProduceAll(kafka.BootstrapServers, Topic, partitions, stream.Events, Envelopes(stream));

    private static IEnumerable<(byte[]? Key, byte[] Value)> Envelopes(TopKBenchStream stream)
    {
        var generator = stream.Open(50_000);
        var spans = new List<(int Offset, int Length)>();
        while (generator.Next(spans, out var buffer))
        {
            foreach (var (offset, length) in spans)
            {
                var value = buffer.Slice(offset, length).ToArray();
                yield return (HostKey(value), value);
            }
        }
    }

    private static byte[] HostKey(byte[] envelope)
    {
        var reader = new System.Text.Json.Utf8JsonReader(envelope);
        while (reader.Read())
            if (reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.ValueTextEquals(EnvelopeUtf8.OfSyslog.Hostname) && reader.Read())
                return Encoding.UTF8.GetBytes(reader.GetString()!);
        return [];
    }

    /// <summary>The rows as CSV for COPY: every text quoted, NULL as an unquoted empty field.</summary>
    private static void WriteCsv(string path, List<PlainRow> rows)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20);
        var c = CultureInfo.InvariantCulture;
        foreach (var r in rows)
        {
            Text(writer, r.Id); writer.Write(',');
            writer.Write(r.ReceivedAt.ToString("yyyy-MM-dd HH:mm:ss.ffffff+00", c)); writer.Write(',');
            if (r.EventTime is { } t) writer.Write(t.ToString("yyyy-MM-dd HH:mm:ss.ffffff+00", c));
            writer.Write(',');
            Text(writer, r.Kind); writer.Write(',');
            Text(writer, r.Host); writer.Write(',');
            Text(writer, r.App); writer.Write(',');
            writer.Write(r.Facility?.ToString(c)); writer.Write(',');
            writer.Write(r.Severity?.ToString(c)); writer.Write(',');
            Text(writer, r.Message); writer.Write(',');
            writer.Write(r.SourceIp?.ToString()); writer.Write(',');
            Text(writer, r.Transport); writer.Write(',');
            Text(writer, r.Edge); writer.Write(',');
            Text(writer, r.Tenant); writer.Write(',');
            writer.Write(r.SampleRate.ToString(c)); writer.Write(',');
            Text(writer, r.StreamId); writer.Write(',');
            Text(writer, r.ParseStatus); writer.Write(',');
            Text(writer, r.Payload); writer.Write(',');
            Text(writer, r.Topic); writer.Write(',');
            writer.Write(r.Partition.ToString(c)); writer.Write(',');
            writer.Write(r.Offset.ToString(c));
            writer.Write('\n');
        }

        static void Text(StreamWriter writer, string? value)
        {
            if (value is null) return;
            writer.Write('"');
            writer.Write(value.Replace("\"", "\"\"", StringComparison.Ordinal));
            writer.Write('"');
        }
    }

    /// <summary>Runs a contender on a fresh database with the NOC schema and the stream's day partitions, after a checkpoint.</summary>
    internal static T WithDatabase<T>(string admin, List<DateOnly> days, Func<string, T> run)
    {
        var name = "noc_bench_" + Guid.NewGuid().ToString("N")[..8];
        Execute(admin, $"create database {name}");
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
            using (var dataSource = NpgsqlDataSource.Create(connectionString))
            {
                Migrator.ApplyCoreAsync(dataSource, default).GetAwaiter().GetResult();
                Migrator.ApplyAsync(dataSource, typeof(PostgresSink).Assembly, ["noc"], default).GetAwaiter().GetResult();
                new EventPartitions(dataSource).EnsureAsync(days, default).GetAwaiter().GetResult();
            }
            Execute(admin, "checkpoint");
            return run(connectionString);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            Execute(admin, $"drop database if exists {name} with (force)");
        }
    }

    internal static void Check(string connectionString, long expected)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand("select count(*) from events", connection);
        var rows = (long)command.ExecuteScalar()!;
        if (rows != expected) throw new InvalidOperationException($"{rows:N0} rows in events, expected {expected:N0}");
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Client-side cost of turning a record into a row, single-threaded, after a warm-up: the sink's one-pass
    /// reader against the former way (the envelope deserialised to <c>TelemetryEvent</c>, plus the whole value
    /// decoded to a string for the jsonb column).
    /// </summary>
    private static (double OnePassNs, double FormerNs) DecodeCost(List<ConsumedRecord> records)
    {
        double Measure(Action<ConsumedRecord> decode)
        {
            foreach (var r in records.Take(20_000)) decode(r);
            var clock = Stopwatch.StartNew();
            foreach (var r in records) decode(r);
            return clock.Elapsed.TotalNanoseconds / records.Count;
        }
        var onePass = Measure(r => EventRow.From(r));
        var former = Measure(r =>
        {
            _ = Pipeline.Core.Envelope.EnvelopeCodec.Decode(r.Value);
            _ = Encoding.UTF8.GetString(r.Value);
        });
        return (onePass, former);
    }

    private static string Report(int events, int partitions, int brokers, List<ConsumedRecord> records, List<Result> results,
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
            var ratio = Median(runs.Select(r => r.RowsPerSecond / RawIn(r.Round)));
            text.AppendLine(c, $"| {group.Key} | {Median(runs.Select(r => r.RowsPerSecond)):N0} | {ratio:P0} | {string.Join(" / ", runs.Select(r => r.RowsPerSecond.ToString("N0", c)))} | {Median(runs.Select(r => r.CpuBusy)):P0} | {runs[0].Notes} |");
        }
        text.AppendLine();
        text.AppendLine(c, $"Decoding a record into a row on the client, single-threaded: {decode.OnePassNs:N0} ns with the sink's one-pass reader (text and payload columns are slices of the record), {decode.FormerNs:N0} ns the former way (envelope deserialised, then the whole value decoded again to a string for jsonb).");
        text.AppendLine();
        text.AppendLine("The NOC sink's clock starts once the group has its partitions and stops when the runtime has committed the last batch; it includes reading from Kafka and decoding each envelope, which psql and the INSERT writer are spared (their rows are decoded before the clock starts). CPU busy is the share of both cores' time spent outside idle during the contender, machine-wide (PostgreSQL, psql, the bench process with its embedded Kafka).");
        return text.ToString();
    }

    /// <summary>A row as plain .NET values, decoded before the clock starts for the writers that are not the sink.</summary>
    private sealed record PlainRow(
        string Id, DateTime ReceivedAt, DateTime? EventTime, string Kind, string? Host, string? App, short? Facility, short? Severity,
        string? Message, System.Net.IPAddress? SourceIp, string? Transport, string? Edge, string? Tenant, int SampleRate, string? StreamId,
        string? ParseStatus, string Payload, string Topic, int Partition, long Offset)
    {
        public static PlainRow Of(EventRow r) => new(
            EventRow.Text(r.Id)!, r.ReceivedAt, r.EventTime, EventRow.Text(r.Kind)!, EventRow.Text(r.Host), EventRow.Text(r.App), r.Facility, r.Severity,
            EventRow.Text(r.Message), r.SourceIp, EventRow.Text(r.Transport), EventRow.Text(r.Edge), EventRow.Text(r.Tenant), r.SampleRate,
            EventRow.Text(r.StreamId), EventRow.Text(r.ParseStatus), EventRow.Text(r.Payload)!, r.Record.Topic, r.Record.Partition, r.Record.Offset);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record Result(string Name, long Rows, TimeSpan Elapsed, Cpu Used, string Notes)
    {
        public int Round { get; init; }

        public double RowsPerSecond => Rows / Elapsed.TotalSeconds;
        public double CpuBusy => Used.Busy;
    }

    /// <summary>Machine-wide CPU time from /proc/stat (jiffies), to show how much of the two cores a contender used.</summary>
    internal readonly record struct Cpu(long Busy_, long Total)
    {
        public double Busy => Total == 0 ? 0 : (double)Busy_ / Total;

        public static Cpu Now()
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
            var total = fields.Sum();
            return new Cpu(total - idle, total);
        }

        public static Cpu operator -(Cpu a, Cpu b) => new(a.Busy_ - b.Busy_, a.Total - b.Total);
    }
}
