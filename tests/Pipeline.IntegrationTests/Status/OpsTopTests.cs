using System.Diagnostics;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.IntegrationTests.Ops;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Status;

/// <summary><c>ops top</c> as an operator uses it over SSH: in a real terminal (tmux), refreshing, quit with q.</summary>
[Collection(LivePipeline.Collection)]
public sealed partial class OpsTopTests(LivePipeline live, ITestOutputHelper output)
{
    [Fact]
    public async Task OpsTopInATerminalShowsTheLivePipelineRefreshesAndQuitsOnQ()
    {
        Assert.Equal(100, await live.SendAsync(100, n => ("terminal-host", "sshd", 6, $"seen from a terminal {n}")));
        var socket = "ops-top-" + Guid.NewGuid().ToString("N")[..8];
        var ops = Repository.Executable("infra/Pipeline.Ops");
        var command = string.Join(' ', new[] { "dotnet", ops, "top", "--interval", "1s" }.Concat(live.CommonArguments()).Select(Quote)) + "; echo \"top exited: $?\"; sleep 60";
        // A private tmux server (its own socket), so no other tmux session on this machine is touched.
        Tmux(socket, "new-session", "-d", "-s", "top", "-x", "200", "-y", "70", command);
        try
        {
            var screen = await Eventually.Until(() => Task.FromResult(Capture(socket)),
                s => s.Contains("consumer groups", StringComparison.Ordinal) && GroupUp().IsMatch(s) && s.Contains("syslog-tcp", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), "ops top shows the groups and the edge's listener");
            Assert.Matches(@"edge\s+up", screen);
            Assert.Contains("buffer_full", screen, StringComparison.Ordinal);
            var clock = Clock().Match(screen).Value;

            // It refreshes on its own: the clock in its first line moves.
            await Eventually.Until(() => Task.FromResult(Capture(socket)), s => Clock().Match(s).Value is { Length: > 0 } now && now != clock,
                TimeSpan.FromSeconds(30), "ops top refreshes");

            Tmux(socket, "send-keys", "-t", "top", "q");
            var end = await Eventually.Until(() => Task.FromResult(Capture(socket)), s => s.Contains("top exited:", StringComparison.Ordinal),
                TimeSpan.FromSeconds(30), "q quits ops top");
            Assert.Contains("top exited: 0", end, StringComparison.Ordinal);
            output.WriteLine(screen);
        }
        finally
        {
            Tmux(socket, "kill-server");
        }
    }

    [Fact]
    public async Task OpsTopOncePrintsOneFrameOfTheSameNumbersAsPlainText()
    {
        var result = await OpsTool.RunAsync(["top", "--once", "--interval", "1s", .. live.CommonArguments()]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("consumer groups", result.Out, StringComparison.Ordinal);
        Assert.Matches(GroupUp(), result.Out);
        Assert.Matches(@"syslog\s+3\s", result.Out);
        // Not a terminal: no escape sequences for a script to strip.
        Assert.DoesNotContain("\u001b[", result.Out, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"noc_team\s+up")]
    private static partial Regex GroupUp();

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")]
    private static partial Regex Clock();

    private static string Capture(string socket) => Tmux(socket, "capture-pane", "-p", "-t", "top");

    private static string Tmux(string socket, params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(socket);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return text;
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
