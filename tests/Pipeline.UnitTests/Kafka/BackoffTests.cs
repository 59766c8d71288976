using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Kafka;

public sealed class BackoffTests
{
    [Fact]
    public void DelaysDoubleUpToTheCapAndStartOverAfterAReset()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3));
        var delays = Enumerable.Range(0, 5).Select(_ => backoff.NextDelay().TotalMilliseconds).ToArray();
        Assert.Equal([500, 1000, 2000, 3000, 3000], delays);
        Assert.Equal(5, backoff.Attempts);
        backoff.Reset();
        Assert.Equal(500, backoff.NextDelay().TotalMilliseconds);
    }

    [Fact]
    public void ADrainTimeoutAsLongAsTheSessionIsRefused()
    {
        var options = new ConsumerOptions { Group = "g", DrainTimeout = TimeSpan.FromSeconds(15), SessionTimeout = TimeSpan.FromSeconds(15) };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("DrainTimeout", error.Message);
    }

    [Theory]
    [InlineData("earliest", true)]
    [InlineData("latest", true)]
    [InlineData("yesterday", false)]
    public void FromAcceptsEarliestOrLatestOnly(string from, bool valid)
    {
        var options = new ConsumerOptions { Group = "g", From = from };
        if (valid) options.Validate();
        else Assert.Throws<ArgumentException>(options.Validate);
    }
}
