using System.Diagnostics;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Infra;

/// <summary>Every executable speaks the same command line: --help lists its options with their defaults, a bad one exits 2 with one line.</summary>
public sealed class CommandLineTests
{
    public static TheoryData<string, string[]> Executables => new()
    {
        { "producer/Pipeline.Edge", ["--kafka", "--syslog-udp", "--syslog-tcp", "--http", "--otlp", "--admin", "--name", "--spool"] },
        { "consumers/Pipeline.Consumers.Postgres", ["--kafka", "--group", "--topics", "--from", "--batch-size", "--http", "--admin", "--postgres", "--retention-days"] },
        { "consumers/Pipeline.Consumers.Siem", ["--kafka", "--group", "--archive", "--segment-max-bytes", "--segment-max-age"] },
        { "consumers/Pipeline.Consumers.TopK", ["--kafka", "--group", "--postgres", "--dimensions", "--window", "--capacity"] },
        { "consumers/Pipeline.Consumers.Files", ["--kafka", "--group", "--output", "--max-file-bytes"] },
        { "infra/Pipeline.Ops", ["local", "lag", "replay", "reset", "tail", "topics"] },
    };

    [Theory]
    [MemberData(nameof(Executables))]
    public async Task HelpListsEveryOptionAndExitsZero(string project, string[] options)
    {
        var (exit, output, error) = await RunAsync(project, "--help");
        Assert.True(exit == 0, error);
        foreach (var option in options) Assert.Contains(option, output);
        // The consumers and the edge say the setting behind each option and its default.
        if (!project.EndsWith("Ops", StringComparison.Ordinal)) Assert.Contains("default ", output);
    }

    [Theory]
    [MemberData(nameof(Executables))]
    public async Task AnUnknownOptionExitsTwoWithOneLine(string project, string[] options)
    {
        _ = options;
        var (exit, output, error) = await RunAsync(project, "--no-such-option");
        Assert.Equal(2, exit);
        Assert.DoesNotContain("Unhandled", error);
        Assert.Contains("--no-such-option", error);
        Assert.DoesNotContain("at Pipeline.", error + output);
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string project, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Repository.Executable(project));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
