using Pipeline.Core.Hosting;

namespace Pipeline.UnitTests.Core;

public sealed class ExecutableCommandLineTests
{
    private static readonly IReadOnlyList<CommandLineSwitch> Switches =
    [
        new("--kafka", "Kafka:BootstrapServers", "Kafka bootstrap servers"),
        new("--batch-size", "Consumer:BatchSize", "Records per write", "5000"),
    ];

    [Fact]
    public void HelpListsEveryOptionWithItsSettingAndDefaultAndExitsZero()
    {
        var (exit, output, error) = Check("--help");
        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Contains("A test executable.", output);
        Assert.Contains("--kafka", output);
        Assert.Contains("setting Kafka:BootstrapServers", output);
        Assert.Contains("--batch-size", output);
        Assert.Contains("setting Consumer:BatchSize; default 5000", output);
    }

    [Theory]
    [InlineData("--bogus", "unknown option '--bogus'")]
    [InlineData("-x", "unknown option '-x'")]
    [InlineData("--kafka", "--kafka")]
    public void ABadCommandLineEndsWithOneLineAndExitCodeTwo(string arg, string said)
    {
        var (exit, output, error) = Check(arg);
        Assert.Equal(StartupErrors.ConfigurationError, exit);
        Assert.Empty(output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("pipeline-test: configuration error: ", line);
        Assert.Contains(said, line);
    }

    [Fact]
    public void NamedOptionsGivenOnceOrAgainAndAnySettingAsSectionKeyRunOn()
    {
        var (exit, output, error) = Check("--kafka", "127.0.0.1:9092", "--Consumer:DrainTimeout=00:00:03", "--Kafka:Properties:acks", "all", "--batch-size=10",
            "--batch-size", "20");
        Assert.Null(exit);
        Assert.Empty(output + error);
    }

    [Fact]
    public void TheMappingsAreTheSwitchTable()
    {
        var mappings = ExecutableCommandLine.Mappings(Switches);
        Assert.Equal("Kafka:BootstrapServers", mappings["--kafka"]);
        Assert.Equal("Consumer:BatchSize", mappings["--batch-size"]);
    }

    private static (int? Exit, string Output, string Error) Check(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = ExecutableCommandLine.Check("pipeline-test", "A test executable.", args, Switches, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
