using Pipeline.Ops.Cli;

namespace Pipeline.UnitTests.Ops.Status;

public sealed class StatusCommandLineTests
{
    [Theory]
    [InlineData("status", "--worker", "noc")]
    [InlineData("status", "--worker", "noc=ftp://127.0.0.1:9101")]
    [InlineData("status", "--worker", "noc=http://127.0.0.1:1,noc=http://127.0.0.1:2")]
    [InlineData("status", "--edge", "not a url")]
    [InlineData("status", "--interval", "10ms")]
    [InlineData("status", "--http", "localhost")]
    [InlineData("top", "--once", "--topics", ",")]
    public async Task BadOptionsAreAUsageErrorThatSaysWhatToFix(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await OpsCommandLine.RunAsync([.. args, "--kafka", "127.0.0.1:1"], new OpsSeams(), output, error);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("error: ", error.ToString(), StringComparison.Ordinal);
    }
}
