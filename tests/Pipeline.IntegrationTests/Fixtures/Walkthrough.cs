using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>What a walkthrough block printed, and its exit code.</summary>
internal sealed record WalkthroughRun(int ExitCode, string Output)
{
    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

/// <summary>
/// Runs a block of docs/walkthroughs.md (the one after <c>&lt;!-- walkthrough: NAME --&gt;</c>) as a bash
/// script from the repository root, exactly as written but for the test's substitutions (a temporary folder
/// for <c>.pipeline/</c>, free ports, throw-away names). <c>source</c> lines are left out: the test sets the
/// environment they would. What it prints, on stdout or stderr, is read as one stream in the order written;
/// commands started with <c>&amp;</c> run until the block ends; then the whole process
/// group is stopped.
/// </summary>
internal static partial class Walkthrough
{
    public static string Block(string name)
    {
        var text = File.ReadAllText(Repository.Path_("docs", "walkthroughs.md"));
        var match = Regex.Match(text, $@"<!-- walkthrough: {Regex.Escape(name)} -->\s*```sh\n(.*?)```", RegexOptions.Singleline);
        if (!match.Success) throw new InvalidOperationException($"docs/walkthroughs.md has no walkthrough block named {name}");
        return match.Groups[1].Value;
    }

    public static async Task<WalkthroughRun> RunAsync(string name, IReadOnlyDictionary<string, string> environment,
        IReadOnlyDictionary<string, string> substitutions, TimeSpan timeout)
    {
        var script = Block(name);
        foreach (var (from, to) in substitutions)
        {
            if (!script.Contains(from, StringComparison.Ordinal)) throw new InvalidOperationException($"walkthrough {name} does not contain '{from}'");
            script = script.Replace(from, to, StringComparison.Ordinal);
        }
        var lines = script.Split('\n').Where(l => !l.TrimStart().StartsWith("source ", StringComparison.Ordinal));
        var file = Path.Combine(Path.GetTempPath(), $"walkthrough-{name}-{Guid.NewGuid():N}.sh");
        // One pipe for both streams: read from two pipes, a line written to stderr can arrive after a later line on stdout.
        await File.WriteAllTextAsync(file, "set -euo pipefail\nexec 2>&1\n" + string.Join('\n', lines));
        var output = new ConcurrentQueue<string>();
        // In a session of its own, so its background commands can be stopped with it as one process group.
        var info = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repository.Root };
        info.ArgumentList.Add("bash");
        info.ArgumentList.Add(file);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        // Only what fails before the script's first line (setsid, bash) is left to write here.
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Not WaitForExit yet: background commands keep the output pipes open after the script ends.
            var deadline = DateTime.UtcNow + timeout;
            while (!process.HasExited && DateTime.UtcNow < deadline) await Task.Delay(100);
            if (!process.HasExited) throw new TimeoutException($"walkthrough {name} did not finish within {timeout}:\n{string.Join('\n', output)}");
        }
        finally
        {
            await StopGroupAsync(process.Id);
            File.Delete(file);
        }
        // With every writer gone the pipes reach their end: wait until what is in them has been read, or the
        // last lines printed can be missing (the readers run on the thread pool, which a busy test run delays).
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return new WalkthroughRun(process.ExitCode, string.Join('\n', output));
    }

    /// <summary>SIGTERM to the block's process group (the workers it started finish their batch), SIGKILL to what is left after 20 s.</summary>
    private static async Task StopGroupAsync(int group)
    {
        if (kill(-group, 15) != 0) return;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (kill(-group, 0) != 0) return;
            await Task.Delay(100);
        }
        _ = kill(-group, 9);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
