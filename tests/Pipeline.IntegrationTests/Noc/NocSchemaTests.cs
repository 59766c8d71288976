using System.Globalization;
using Dapper;
using Npgsql;
using Pipeline.Consumers.Postgres;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Postgres;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>The NOC schema: migrations, day partitions and their retention, and the indexes behind the team's two questions.</summary>
public sealed class NocSchemaTests
{
    [Fact]
    public async Task MigrationsStartedByEightInstancesAtOnceAreAppliedOnceAndAgainAreANoOp()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        var applied = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            (await Migrator.ApplyCoreAsync(dataSource, default)).Concat(await Migrator.ApplyAsync(dataSource, typeof(PostgresSink).Assembly, ["noc"], default)).ToList())));

        var expected = Migrator.Load(typeof(Migrator).Assembly, "core").Count + Migrator.Load(typeof(PostgresSink).Assembly, "noc").Count;
        // Exactly one instance applied each migration; the others found nothing left to do.
        Assert.Equal(expected, applied.Sum(a => a.Count));
        Assert.Equal(expected, await db.ScalarAsync<long>("select count(*) from schema_migrations"));
        Assert.Empty(await Migrator.ApplyAsync(dataSource, typeof(PostgresSink).Assembly, ["noc"], default));
        Assert.Equal("p", await db.ScalarAsync<string>("select relkind::text from pg_class where relname = 'events'"));
        Assert.Equal(0, await db.CountAsync("streams"));
    }

    [Fact]
    public async Task AWorkersMigrationsDoNotWaitForAnotherWorkersScopeButASecondInstanceWaitsForItsOwn()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        await Migrator.ApplyCoreAsync(dataSource, default);
        // Top-k in the middle of its migrations on a new database: its scope's lock held by an open transaction.
        await using var other = await dataSource.OpenConnectionAsync();
        await using var holding = await other.BeginTransactionAsync();
        await Migrator.LockScopesAsync(other, holding, ["topk"], default);

        // The NOC's own scope goes ahead meanwhile (under one lock for every scope it would wait here until the timeout).
        var noc = await Migrator.ApplyAsync(dataSource, typeof(PostgresSink).Assembly, ["noc"], default).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Migrator.Load(typeof(PostgresSink).Assembly, "noc").Count, noc.Count);

        // A second top-k waits for the first one's lock...
        var topk = Migrator.ApplyAsync(dataSource, typeof(Pipeline.Consumers.TopK.TopKSink).Assembly, ["topk"], default);
        await Eventually.Until(() => db.ScalarAsync<long>("select count(*) from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and not l.granted and d.datname = current_database()"), n => n == 1,
            TimeSpan.FromSeconds(30), "the second top-k never waited for the first one's lock");
        Assert.False(topk.IsCompleted);
        // ...and applies the scope once it is released.
        await holding.RollbackAsync();
        var applied = await topk.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Migrator.Load(typeof(Pipeline.Consumers.TopK.TopKSink).Assembly, "topk").Count, applied.Count);
        Assert.Equal(1L, await db.ScalarAsync<long>("select count(*) from pg_class where relname = 'topk_windows'"));
    }

    [KafkaFact]
    public async Task RetentionDropsTheDayPartitionsOlderThanTheLimitAndKeepsTheRecentOnesWithTheirRows()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 3, partitions: 6);
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        var topic = "noc-retention-" + Guid.NewGuid().ToString("N")[..8];
        pipeline.Kafka.CreateTopic(topic, 6);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        // 100 events a day from ten days ago to today.
        var stream = new NocStream(1100, today.AddDays(-10), TimeSpan.FromDays(11));
        stream.Produce(pipeline.Kafka.BootstrapServers, topic);
        var group = "noc-" + Guid.NewGuid().ToString("N")[..8];

        // First everything is kept...
        var keeping = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic, ["--retention-days", "0"]);
        await NocConsumers.WaitForRowsAsync(db, topic, stream.Count, TimeSpan.FromMinutes(1), keeping);
        await keeping.StopAsync();
        var before = await DaysAsync(db);
        Assert.Equal(Enumerable.Range(-10, 12).Select(today.AddDays), before);

        // ...then a start with a 3-day retention drops whole days ending 3 days ago or earlier.
        var pruning = await NocConsumers.StartNocAsync(pipeline, db.ConnectionString, group, topic, ["--retention-days", "3"]);
        var kept = Enumerable.Range(-3, 5).Select(today.AddDays).ToList();
        await Eventually.Until(() => DaysAsync(db), days => days.SequenceEqual(kept), TimeSpan.FromSeconds(30), "day partitions after retention");
        foreach (var day in before.Except(kept))
            Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from pg_class where relname = @name", new { name = EventPartitions.NameOf(day) }));

        var expected = Enumerable.Range(0, stream.Count).Count(i => DateOnly.FromDateTime(stream.ReceivedAt(i).UtcDateTime) >= today.AddDays(-3));
        Assert.Equal(expected, await NocConsumers.RowsAsync(db, topic));
        Assert.Equal(0, await db.ScalarAsync<long>("select count(*) from events where received_at < @limit", new { limit = today.AddDays(-3).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) }));
        // The log line is read from the running process's output as it comes, so it may trail the database's state.
        await Eventually.True(() => pruning.Output.Contains("Retention: dropped day partitions", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the retention log line");
        await pruning.StopAsync();
    }

    [Fact]
    public async Task ThisHostLastHourAndErrorsLastFifteenMinutesAreAnsweredFromTheirIndexes()
    {
        await using var db = await PostgresServer.Instance.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(db.ConnectionString);
        await Migrator.ApplyCoreAsync(dataSource, default);
        await Migrator.ApplyAsync(dataSource, typeof(PostgresSink).Assembly, ["noc"], default);
        var now = DateTimeOffset.UtcNow;
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        await new EventPartitions(dataSource).EnsureAsync([today.AddDays(-1), today], default);
        await using var connection = db.Open();
        // Two hours of rows, one a second, ten hosts, severities 0..7.
        await connection.ExecuteAsync("""
            insert into events (id, received_at, kind, host, severity, payload, topic, kafka_partition, kafka_offset)
            select 'id' || g, @now::timestamptz - g * interval '1 second', 'log', 'host-' || (g % 10), g % 8, '{}'::jsonb, 't', 0, g
            from generate_series(0, 7199) g
            """, new { now });
        await connection.ExecuteAsync("analyze events");

        const string HostLastHour = "select id from events where host = @host and received_at > @now::timestamptz - interval '1 hour' order by received_at desc";
        const string ErrorsLast15Minutes = "select id from events where severity <= 3 and received_at > @now::timestamptz - interval '15 minutes' order by received_at desc";
        Assert.Equal(360, (await connection.QueryAsync<string>(HostLastHour, new { host = "host-3", now })).Count());
        Assert.Equal(452, (await connection.QueryAsync<string>(ErrorsLast15Minutes, new { now })).Count());

        // The planner may prefer a scan on tables this small; with scans priced out, the indexes must serve.
        await connection.ExecuteAsync("set enable_seqscan = off");
        var hostPlan = string.Join('\n', await connection.QueryAsync<string>("explain " + HostLastHour, new { host = "host-3", now }));
        var errorPlan = string.Join('\n', await connection.QueryAsync<string>("explain " + ErrorsLast15Minutes, new { now }));
        // Each partition's copy of the index: events_pYYYYMMDD_host_received_at_idx, ..._received_at_severity_idx (partial).
        Assert.Contains("host_received_at_idx", hostPlan, StringComparison.Ordinal);
        Assert.Contains("received_at_severity_idx", errorPlan, StringComparison.Ordinal);
    }

    private static async Task<List<DateOnly>> DaysAsync(TemporaryDatabase db)
    {
        await using var connection = db.Open();
        var names = await connection.QueryAsync<string>("select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'events'::regclass");
        return names.Select(n => DateOnly.ParseExact(n["events_p".Length..], "yyyyMMdd", CultureInfo.InvariantCulture)).Order().ToList();
    }
}
