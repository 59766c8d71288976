using System.Text.Json;
using Dapper;
using Npgsql;
using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.IntegrationTests.Noc;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// One of the four sinks as its own process on a test topic, and where it says it has written up to, read
/// from its own store without its code: <c>consumer_offsets</c> (NOC, top-k), the SIEM archive's
/// <c>checkpoint.json</c>, or for the at-least-once jsonl sink the records in its files (event i of the test
/// stream is at offset i / partitions of partition i mod partitions, so the contiguous run of offsets found
/// from 0 is what it has written).
/// </summary>
internal sealed class SinkUnderTest : IAsyncDisposable
{
    private readonly PipelineUnderTest _pipeline;
    private readonly string _worker;
    private readonly string _group;
    private readonly string _topic;
    private readonly int _partitions;
    private readonly TemporaryDatabase? _database;
    private readonly string _directory;

    private SinkUnderTest(PipelineUnderTest pipeline, string worker, string group, string topic, int partitions, TemporaryDatabase? database)
    {
        _pipeline = pipeline;
        _worker = worker;
        _group = group;
        _topic = topic;
        _partitions = partitions;
        _database = database;
        _directory = Directory.CreateTempSubdirectory($"sink-{worker}-").FullName;
    }

    public static async Task<SinkUnderTest> CreateAsync(string worker, PipelineUnderTest pipeline, string group, string topic, int partitions)
    {
        var database = worker is "noc" or "topk" ? await PostgresServer.Instance.CreateDatabaseAsync() : null;
        if (worker == "topk") pipeline.Kafka.CreateTopic(topic + "-topk", 1);
        return new SinkUnderTest(pipeline, worker, group, topic, partitions, database);
    }

    /// <summary>Starts the sink: small batches written within 200 ms, a short session so a killed member's partitions move soon.</summary>
    public Task<PipelineProcess> StartAsync()
    {
        string[] common = ["--group", _group, "--topics", _topic, "--from", "earliest", "--batch-size", "200", "--batch-wait", "00:00:00.200",
            "--Consumer:SessionTimeout=00:00:06", "--Consumer:DrainTimeout=00:00:04"];
        var (project, own) = _worker switch
        {
            "noc" => (NocConsumers.NocProject, new[] { "--postgres", _database!.ConnectionString }),
            "topk" => ("consumers/Pipeline.Consumers.TopK", ["--postgres", _database!.ConnectionString, "--publish-topic", _topic + "-topk"]),
            "siem" => ("consumers/Pipeline.Consumers.Siem", ["--archive", _directory, "--Siem:Alerts:Publish=false"]),
            "files" => (NocConsumers.FilesProject, ["--output", _directory]),
            _ => throw new ArgumentException($"no sink named {_worker}"),
        };
        return _pipeline.StartConsumerAsync(project, [.. common, .. own]);
    }

    /// <summary>Per partition, the next offset the sink's own store says it will read (absent: nothing written).</summary>
    public async Task<Dictionary<int, long>> StoredAsync() => _worker switch
    {
        "noc" or "topk" => await ConsumerOffsetsAsync(),
        "siem" => Checkpoint(),
        _ => WrittenToFiles(),
    };

    private async Task<Dictionary<int, long>> ConsumerOffsetsAsync()
    {
        await using var connection = new NpgsqlConnection(_database!.ConnectionString);
        try
        {
            var rows = await connection.QueryAsync<(int Partition, long Next)>(
                "select partition, next_offset from consumer_offsets where group_id = @group and topic = @topic", new { group = _group, topic = _topic });
            return rows.ToDictionary(r => r.Partition, r => r.Next);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];
        }
    }

    private Dictionary<int, long> Checkpoint()
    {
        var path = Path.Combine(_directory, "checkpoint.json");
        if (!File.Exists(path)) return [];
        // Replaced atomically by the sink (rename): a read sees the old or the new one, whole.
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        if (!json.RootElement.TryGetProperty("offsets", out var offsets)) return [];
        return offsets.EnumerateArray().Where(o => o.GetProperty("topic").GetString() == _topic)
            .ToDictionary(o => o.GetProperty("partition").GetInt32(), o => o.GetProperty("next").GetInt64());
    }

    private Dictionary<int, long> WrittenToFiles()
    {
        var found = new HashSet<int>();
        foreach (var file in Directory.GetFiles(_directory, "*.jsonl"))
        {
            foreach (var line in SiemArchive.ReadShared(file))
            {
                try
                {
                    found.Add(NocStream.IndexOf(EnvelopeCodec.Decode(System.Text.Encoding.UTF8.GetBytes(line)).Id));
                }
                catch (Exception ex) when (ex is EnvelopeFormatException or FormatException)
                {
                    // A line being written (or cut by the kill) is not written yet.
                }
            }
        }
        var written = new Dictionary<int, long>();
        for (var partition = 0; partition < _partitions; partition++)
        {
            long next = 0;
            while (found.Contains((int)(next * _partitions + partition))) next++;
            if (next > 0) written[partition] = next;
        }
        return written;
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A sink still running (a failed test) may be writing there; the temporary folder is left behind.
        }
    }
}
