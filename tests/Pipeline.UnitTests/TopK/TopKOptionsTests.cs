using Pipeline.Consumers.TopK;
using Pipeline.Consumers.TopK.Windows;

namespace Pipeline.UnitTests.TopK;

public sealed class TopKOptionsTests
{
    [Fact]
    public void TheDefaultsAreValidAndDescribeOneMinuteWindowsRolledIntoAnHour()
    {
        var options = new TopKOptions();
        options.Validate(TimeSpan.FromSeconds(1));
        Assert.Equal(["1m", "1h"], options.Granularities.Select(g => g.Label));
        Assert.Equal(["host", "app", "severity", "source_ip", "template", "tenant"], options.DimensionList.Select(d => d.Name));
    }

    [Theory]
    [InlineData("Dimensions", "host,colour")]
    [InlineData("Dimensions", "host,host")]
    [InlineData("Dimensions", "payload.")]
    [InlineData("Rollup", "00:01:30")]
    [InlineData("Rollup", "00:00:30")]
    [InlineData("Window", "00:00:00.500")]
    [InlineData("Capacity", "4")]
    [InlineData("PublishTop", "5000")]
    [InlineData("AllowedLateness", "-00:00:01")]
    [InlineData("CheckpointInterval", "-00:00:01")]
    [InlineData("CheckpointInterval", "00:02:00")]
    public void AnOptionThatCannotWorkIsRefusedAtStartUp(string option, string value)
    {
        var options = new TopKOptions();
        var property = typeof(TopKOptions).GetProperty(option)!;
        property.SetValue(options, property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : property.PropertyType == typeof(int) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : value);
        Assert.Throws<ArgumentException>(() => options.Validate());
    }

    [Fact]
    public void AnIdleTimeoutNoLongerThanTheBatchWaitIsRefused() =>
        // Records waiting in the runtime's batch would look like silence, and their windows would close under them.
        Assert.Throws<ArgumentException>(() => new TopKOptions { IdleTimeout = TimeSpan.FromSeconds(5) }.Validate(TimeSpan.FromSeconds(5)));

    [Theory]
    [InlineData("1m", 60)]
    [InlineData("90s", 90)]
    [InlineData("1h", 3600)]
    [InlineData("1d", 86400)]
    [InlineData("00:05:00", 300)]
    public void WindowSizesAreReadInShortOrTimeSpanForm(string text, int seconds)
    {
        Assert.True(Granularity.TryParse(text, out var size));
        Assert.Equal(TimeSpan.FromSeconds(seconds), size);
    }

    [Fact]
    public void WindowsAreAlignedOnTheEpochWhateverTheEventsTime()
    {
        var hour = new Granularity(TimeSpan.FromHours(1));
        var at = new DateTimeOffset(2025, 3, 14, 12, 59, 59, 999, TimeSpan.FromHours(2));
        Assert.Equal(new DateTimeOffset(2025, 3, 14, 10, 0, 0, TimeSpan.Zero), hour.Start(at));
        Assert.Equal(new DateTimeOffset(1969, 12, 31, 23, 0, 0, TimeSpan.Zero), hour.Start(new DateTimeOffset(1969, 12, 31, 23, 30, 0, TimeSpan.Zero)));
    }
}
