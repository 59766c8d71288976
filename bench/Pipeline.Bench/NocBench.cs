using System.Diagnostics;
using System.Globalization;
using System.Text;
using Pipeline.Consumers.Postgres;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;
using Pipeline.Kafka.Embedded;

namespace Pipeline.Bench;

/// <summary>
/// <c>Pipeline.Bench noc</c>: rows per second from Kafka into PostgreSQL through the NOC sink (the consumer
/// runtime reading the embedded cluster, binary COPY with offsets in the same transaction), side by side in
/// the same run with the raw limit — <c>psql \copy</c> of the very same rows from a CSV file into the same
/// table — and with a plain writer of 200-row INSERT statements. Each contender gets a fresh database with the
/// same schema (indexes included) and day partitions, after a CHECKPOINT. This class runs the rounds; the
/// contenders are in <see cref="NocBenchContenders"/>, the table in <see cref="NocBenchReport"/>.
/// </summary>
internal static class NocBench
{
    internal const string Topic = "syslog";

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
        var rows = records.Select(EventRow.From).Select(PlainEventRow.Of).ToList();
        var days = rows.Select(r => DateOnly.FromDateTime(r.ReceivedAt)).Distinct().ToList();

        var admin = BenchSupport.RunScript(Path.Combine(repository, "infra", "postgres", "cluster.sh"), "start", "--database", "postgres");
        var csv = Path.Combine(Path.GetTempPath(), $"noc-bench-{Guid.NewGuid():N}.csv");
        var results = new List<NocContenderResult>();
        var decode = DecodeCost(records);
        try
        {
            PlainEventRow.WriteCsv(csv, rows);
            Console.WriteLine($"CSV of the same rows: {new FileInfo(csv).Length / 1048576.0:N0} MiB");
            var contenders = new List<Func<string, NocContenderResult>> { db => NocBenchContenders.PsqlCopy(db, csv, events) };
            foreach (var batch in batchSizes)
                foreach (var writers in connections)
                    contenders.Add(db => NocBenchContenders.NocSink(kafka, db, batch, writers, events));
            contenders.Add(db => NocBenchContenders.Inserts(db, rows));
            // Each round runs every contender once, starting from a different one, so that a slow spell of
            // this shared machine does not always fall on the same contender.
            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < contenders.Count; k++)
                {
                    var result = NocBenchDatabase.WithDatabase(admin, days, contenders[(k + round) % contenders.Count]) with { Round = round };
                    Console.WriteLine($"{result.Name}: {result.RowsPerSecond:N0} rows/s");
                    results.Add(result);
                }
            }
        }
        finally
        {
            File.Delete(csv);
        }
        var report = NocBenchReport.Render(events, partitions, brokers, records, results, decode, args);
        Console.WriteLine(report);
        if (output is not null) File.AppendAllText(output, "\n" + report);
        return 0;
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
}
