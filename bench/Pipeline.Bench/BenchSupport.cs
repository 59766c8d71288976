using System.Diagnostics;
using System.Globalization;

namespace Pipeline.Bench;

/// <summary>What every benchmark command needs: its options, the repository it runs from, and helper processes.</summary>
internal static class BenchSupport
{
    /// <summary>The value after <paramref name="name"/> on the command line, or null.</summary>
    public static string? ArgText(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    public static int Arg(string[] args, string name, int fallback) =>
        ArgText(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The repository's root (where Pipeline.sln is), found upwards from the benchmark's binaries.</summary>
    public static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    /// <summary>Runs a bash script and returns what it printed; a failure ends the benchmark with the script's stderr.</summary>
    public static string RunScript(string script, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed: {stderr}");
        return stdout.Trim();
    }
}
