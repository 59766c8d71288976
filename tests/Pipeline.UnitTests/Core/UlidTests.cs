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
}
