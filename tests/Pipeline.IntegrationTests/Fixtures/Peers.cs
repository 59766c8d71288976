using System.Diagnostics;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Real programs a user would point at the pipeline (logger, curl, rsyslog), run as they are.</summary>
internal static class Peers
{
    /// <summary>Runs a command to completion; throws with its output when it fails.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null,
        IDictionary<string, string>? environment = null)
    {
        var (exitCode, stdout, stderr) = await RunUncheckedAsync(file, args, stdin, timeout, environment);
        if (exitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {exitCode}: {stderr}");
        return stdout;
    }

    /// <summary>Runs a command to completion and returns its exit code and output, whatever the exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunUncheckedAsync(string file, IEnumerable<string> args, string? stdin = null,
        TimeSpan? timeout = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The host name util-linux logger puts in its messages.</summary>
    /// <summary>
    /// Fails with a clear message when a peer program is missing. Tests never install packages: infra/setup.sh
    /// (run by infra/test.sh) installs every peer the suite uses.
    /// </summary>
    public static void Require(string path, string debianPackage)
    {
        if (!File.Exists(path))
            throw new InvalidOperationException($"{path} is not installed: run infra/setup.sh (it installs the Debian package {debianPackage})");
    }

    public static string HostName => System.Net.Dns.GetHostName().Split('.')[0];
}
