using Npgsql;
using Pipeline.Consumers.Postgres;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Noc;

public sealed class PostgresSinkTests
{
    private static readonly SinkBatch Batch = new(
        Enumerable.Range(0, 10).Select(i => new ConsumedRecord("syslog", 1, 100 + i, null, [], DateTimeOffset.UnixEpoch)).ToList(),
        new Dictionary<PartitionKey, long> { [new PartitionKey("syslog", 1)] = 110 });

    [Theory]
    [InlineData("COPY events, line 7, column message: \"link down\"")]
    [InlineData("COPY events_p20260314, line 7, column payload")]
    [InlineData("COPY events_staging, line 7")]
    public void TheRowNamedByCopyIsThePoisonRecord(string where)
    {
        var error = Error("22021", "invalid byte sequence for encoding \"UTF8\": 0x00", where);
        var poison = Assert.IsType<PoisonRecordException>(PostgresSink.Poison(Batch, error));
        Assert.Equal(106, poison.Record.Offset);
        Assert.Equal("22021: invalid byte sequence for encoding \"UTF8\": 0x00", poison.Reason);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("SQL statement \"insert into streams\"")]
    [InlineData("COPY events, line 11")]
    public void WhenTheRowCannotBeNamedTheBatchIsPoisonAndTheRuntimeSplitsIt(string? where)
    {
        var poison = PostgresSink.Poison(Batch, Error("22P05", "unsupported Unicode escape sequence", where));
        Assert.IsType<PoisonBatchException>(poison);
    }

    [Theory]
    [InlineData("22021", true)]   // text the database refuses
    [InlineData("22P02", true)]   // invalid input syntax
    [InlineData("23502", true)]   // not null violation
    [InlineData("23505", false)]  // unique violation: a replayed id, handled by de-duplication
    [InlineData("57P01", false)]  // server shutting down: unavailable, retried
    [InlineData("08006", false)]  // connection failure
    [InlineData("53100", false)]  // disk full
    public void OnlyDataErrorsMakeRecordsPoisonEverythingElseIsRetried(string sqlState, bool isData) =>
        Assert.Equal(isData, PostgresSink.IsDataError(Error(sqlState, "x", null)));

    [Fact]
    public void DayPartitionsAreNamedAfterTheirDay() =>
        Assert.Equal("events_p20260314", EventPartitions.NameOf(new DateOnly(2026, 3, 14)));

    [Fact]
    public void ANegativeRetentionIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new PostgresOptions { RetentionDays = -1 }.Validate());
        Assert.Contains("RetentionDays", error.Message, StringComparison.Ordinal);
    }

    private static PostgresException Error(string sqlState, string message, string? where) =>
        new(message, "ERROR", "ERROR", sqlState, detail: null!, hint: null!, position: 0, internalPosition: 0, internalQuery: null!, where: where!,
            schemaName: null!, tableName: null!, columnName: null!, dataTypeName: null!, constraintName: null!, file: null!, line: null!, routine: null!);
}
