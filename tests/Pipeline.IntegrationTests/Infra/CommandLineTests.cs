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

    public static TheoryData<string, string> DocumentedIn => new()
    {
        { "producer/Pipeline.Edge", "edge.md" },
        { "consumers/Pipeline.Consumers.Postgres", "noc.md" },
        { "consumers/Pipeline.Consumers.Siem", "siem.md" },
        { "consumers/Pipeline.Consumers.TopK", "topk.md" },
        { "consumers/Pipeline.Consumers.Files", "files.md" },
    };

    /// <summary>
    /// The reference tables follow the command line: every option --help lists has a row in the executable's docs page
    /// (or, for the options every consumer takes, in docs/consumers.md) naming the option and its setting.
    /// </summary>
    [Theory]
    [MemberData(nameof(DocumentedIn))]
    public async Task EveryOptionHelpListsHasARowWithItsSettingInTheDocs(string project, string page)
    {
        var (exit, output, error) = await RunAsync(project, "--help");
        Assert.True(exit == 0, error);
        var options = System.Text.RegularExpressions.Regex.Matches(output, @"^\s+(--[a-z-]+) <value>\s.*\(setting ([^;)]+)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => (Option: m.Groups[1].Value, Setting: m.Groups[2].Value.Trim())).ToList();
        Assert.True(options.Count >= 4, output);
        var rows = new[] { page, "consumers.md" }.SelectMany(p => File.ReadLines(Path.Combine(Repository.Root, "docs", p)))
            .Where(line => line.StartsWith('|')).ToList();
        var missing = options.Where(o => !rows.Any(row => row.Contains($"`{o.Option}`", StringComparison.Ordinal) && row.Contains($"`{o.Setting}", StringComparison.Ordinal)))
            .Select(o => $"{o.Option} ({o.Setting})").ToList();
        Assert.True(missing.Count == 0, $"not in docs/{page}: {string.Join(", ", missing)}");
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
