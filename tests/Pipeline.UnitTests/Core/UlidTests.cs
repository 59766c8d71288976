using Pipeline.Core.Ids;

namespace Pipeline.UnitTests.Core;

public sealed class UlidTests
{
    [Fact]
    public void IdsMintedOnOneThreadInTheSameMillisecondAreUniqueAndIncreasing()
    {
        var at = DateTimeOffset.Parse("2026-11-21T10:00:00.123Z", System.Globalization.CultureInfo.InvariantCulture);
        var ids = Enumerable.Range(0, 10_000).Select(_ => Ulid.NewString(at)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AnIdCarriesItsMillisecondTimestamp()
    {
        var at = DateTimeOffset.Parse("2026-11-21T10:00:00.123Z", System.Globalization.CultureInfo.InvariantCulture);
        var id = Ulid.NewString(at);
        Assert.Equal(26, id.Length);
        Assert.Equal(at, Ulid.TimestampOf(id));
    }

    [Fact]
    public void LaterTimestampsSortAfterEarlierOnes()
    {
        var first = Ulid.NewString(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var second = Ulid.NewString(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_001));
        Assert.True(string.CompareOrdinal(first, second) < 0);
    }

    [Fact]
    public void AnIdMintedForAnEarlierTimeThanTheThreadsLastCarriesThatEarlierTime()
    {
        var late = DateTimeOffset.Parse("2099-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var early = DateTimeOffset.Parse("2026-11-21T10:00:00.123Z", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(late, Ulid.TimestampOf(Ulid.NewString(late)));
        Assert.Equal(early, Ulid.TimestampOf(Ulid.NewString(early)));
    }

    [Fact]
    public void TheMillisecondsAreReadBackFromTheIdsBytesInEitherCase()
    {
        var random = new Random(7);
        var id = new byte[Ulid.Length];
        for (var i = 0; i < 1000; i++)
        {
            var ms = random.NextInt64(0, 1L << 48);
            Ulid.Write(DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(ms, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())), id);
            Assert.True(Ulid.TryReadMilliseconds(id, out var read));
            Assert.Equal(Ulid.TimestampOf(System.Text.Encoding.ASCII.GetString(id)).ToUnixTimeMilliseconds(), read);
            Assert.True(Ulid.TryReadMilliseconds(System.Text.Encoding.ASCII.GetBytes(System.Text.Encoding.ASCII.GetString(id).ToLowerInvariant()), out var lower));
            Assert.Equal(read, lower);
        }
    }

    [Theory]
    [InlineData("01ARZ3NDEU")]
    [InlineData("01ARZ3NDE")]
    [InlineData("01ARZ3NDE\u00e9")]
    [InlineData("{\"id\":\"01A")]
    public void BytesThatAreNotABase32TimeAreRefused(string text) =>
        Assert.False(Ulid.TryReadMilliseconds(System.Text.Encoding.UTF8.GetBytes(text), out _));
}
