using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Edge.Publishing.Spool;

namespace Pipeline.UnitTests.Edge.Spool;

public sealed class SpoolLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("spool-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SpoolLog Open(long segmentBytes = 64 * 1024, long maxBytes = 16 << 20) =>
        new(new SpoolOptions { Directory = _directory, SegmentBytes = segmentBytes, MaxBytes = maxBytes });

    private static SpoolRecord Record(int n, int size = 100) =>
        new("syslog-tcp", n % 2 == 0 ? "default" : "security", "syslog", Encoding.ASCII.GetBytes("host-" + n), Encoding.ASCII.GetBytes($"event {n} ".PadRight(size, 'x')));

    private static List<(SpoolRecord Record, SpoolPosition Position)> ReadAll(SpoolLog spool)
    {
        var read = new List<(SpoolRecord, SpoolPosition)>();
        while (spool.TryReadNext(out var record, out var position)) read.Add((record!, position));
        return read;
    }

    private static int Number(SpoolRecord record) => int.Parse(Encoding.ASCII.GetString(record.Value).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void RecordsAreReadBackInOrderAcrossSegmentsAndASegmentGoesOnceEveryRecordInItIsAcknowledged()
    {
        using var spool = Open(segmentBytes: 64 * 1024);
        for (var i = 0; i < 2000; i++) Assert.True(spool.TryAppend(Record(i), out _));
        spool.Sync();

        var read = ReadAll(spool);
        Assert.Equal(Enumerable.Range(0, 2000), read.Select(r => Number(r.Record)));
        Assert.Equal("host-7", Encoding.ASCII.GetString(read[7].Record.Key!));
        Assert.True(Directory.GetFiles(_directory, "*.spool").Length > 2);

        foreach (var (_, position) in read) spool.Acknowledge(position);
        Assert.Equal(0, spool.Unacknowledged);
        // Only the segment still open for writing remains.
        Assert.Single(Directory.GetFiles(_directory, "*.spool"));
    }

    [Fact]
    public void ARestartSendsAgainOnlyWhatWasNotAcknowledged()
    {
        using (var spool = Open())
        {
            for (var i = 0; i < 100; i++) spool.TryAppend(Record(i), out _);
            spool.Sync();
            var read = ReadAll(spool);
            foreach (var (_, position) in read.Take(60)) spool.Acknowledge(position);
            // Out of order: 70 is acknowledged but 60..69 are not, so the restart starts at 60.
            spool.Acknowledge(read[70].Position);
            spool.CheckpointAcknowledged();
        }
        using var restarted = Open();
        Assert.Equal(40, restarted.Recovery.Records);
        Assert.Equal(20, restarted.Recovery.RecordsByCell[("syslog-tcp", "default")]);
        Assert.Equal(Enumerable.Range(60, 40), ReadAll(restarted).Select(r => Number(r.Record)));
    }

    [Fact]
    public void ATornTailIsSkippedAndCountedAndEveryIntactRecordIsKept()
    {
        using (var spool = Open())
        {
            for (var i = 0; i < 10; i++) spool.TryAppend(Record(i), out _);
        }
        var file = Directory.GetFiles(_directory, "*.spool").Order().First();
        var length = new FileInfo(file).Length;
        using (var stream = new FileStream(file, FileMode.Open)) stream.SetLength(length - 30);

        using var restarted = Open();
        Assert.Equal(9, restarted.Recovery.Records);
        Assert.Equal(1, restarted.Recovery.DamagedRegions);
        Assert.Equal(SpoolRecordFormat.SizeOf(Record(9).AsEntry()) - 30, restarted.Recovery.DamagedBytes);
        Assert.Equal(Enumerable.Range(0, 9), ReadAll(restarted).Select(r => Number(r.Record)));
    }

    [Fact]
    public void FlippedBytesInOneRecordCostThatRecordOnly()
    {
        using (var spool = Open())
        {
            for (var i = 0; i < 10; i++) spool.TryAppend(Record(i), out _);
        }
        var file = Directory.GetFiles(_directory, "*.spool").Order().First();
        var bytes = File.ReadAllBytes(file);
        var recordLength = bytes.Length / 10;
        bytes[4 * recordLength + 50] ^= 0xFF;
        bytes[4 * recordLength + 51] ^= 0x5A;
        File.WriteAllBytes(file, bytes);

        using var restarted = Open();
        Assert.Equal(9, restarted.Recovery.Records);
        Assert.Equal(1, restarted.Recovery.DamagedRegions);
        Assert.Equal(recordLength, restarted.Recovery.DamagedBytes);
        Assert.Equal(new[] { 0, 1, 2, 3, 5, 6, 7, 8, 9 }, ReadAll(restarted).Select(r => Number(r.Record)));
    }

    [Fact]
    public void TheSpoolRefusesARecordThatWouldTakeItPastItsCapacity()
    {
        using var spool = Open(segmentBytes: 64 * 1024, maxBytes: 1 << 20);
        var appended = 0;
        while (spool.TryAppend(Record(appended, size: 1000), out _)) appended++;
        Assert.InRange(spool.Bytes, (1 << 20) - 1100, 1 << 20);
        Assert.InRange(appended, 900, 1048);

        // Acknowledging a sealed segment frees its room again.
        foreach (var (_, position) in ReadAll(spool)) spool.Acknowledge(position);
        Assert.True(spool.TryAppend(Record(0, size: 1000), out _));
    }

    [Fact]
    public async Task AReaderDrainingWhileTheWriterRollsSegmentsReadsEveryRecordOnceInOrder()
    {
        const int count = 30_000;
        using var spool = Open(segmentBytes: 64 * 1024);
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < count; i++)
            {
                Assert.True(spool.TryAppend(Record(i, size: 60), out _));
                if (i % 500 == 0) spool.Sync();
            }
            spool.Sync();
        });
        var read = new List<int>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (read.Count < count && DateTime.UtcNow < deadline)
        {
            if (spool.TryReadNext(out var record, out var position))
            {
                read.Add(Number(record!));
                spool.Acknowledge(position);
            }
            else
            {
                spool.Sync();
                await Task.Yield();
            }
        }
        await writer;
        Assert.Equal(Enumerable.Range(0, count), read);
        Assert.Equal(0, spool.Unacknowledged);
    }

    [Fact]
    public void ASecondEdgeCannotOpenASpoolInUse()
    {
        using var first = Open();
        Assert.ThrowsAny<IOException>(() => Open());
    }

    [Fact]
    public void SyncedCountsOnlyWhatWasFsynced()
    {
        using var spool = Open();
        for (var i = 0; i < 5; i++) spool.TryAppend(Record(i), out _);
        Assert.Equal(5, spool.Appended);
        Assert.Equal(0, spool.Synced);
        spool.Sync();
        Assert.Equal(5, spool.Synced);
    }

    [Fact]
    public void ArbitraryBytesInASegmentFileNeverCrashStartUp()
    {
        var property = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), garbage =>
        {
            var directory = Directory.CreateTempSubdirectory("spool-garbage-").FullName;
            try
            {
                File.WriteAllBytes(Path.Combine(directory, "0000000000000001.spool"), garbage);
                using var spool = new SpoolLog(new SpoolOptions { Directory = directory });
                while (spool.TryReadNext(out _, out var position)) spool.Acknowledge(position);
                return spool.Recovery.DamagedBytes <= garbage.Length;
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    [Fact]
    public void IntactRecordsBehindGarbageAreRecovered()
    {
        var good = new byte[SpoolRecordFormat.SizeOf(Record(42).AsEntry())];
        SpoolRecordFormat.Write(Record(42).AsEntry(), good);
        File.WriteAllBytes(Path.Combine(_directory, "0000000000000003.spool"), [.. "garbage!"u8, .. good, 1, 2, 3]);

        using var spool = Open();
        var read = ReadAll(spool);
        Assert.Equal(42, Number(Assert.Single(read).Record));
        Assert.Equal(2, spool.Recovery.DamagedRegions);
        Assert.Equal(11, spool.Recovery.DamagedBytes);
    }
}
