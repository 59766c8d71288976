using System.Diagnostics;

namespace Pipeline.IntegrationTests.Infra;

/// <summary>
/// infra/setup.sh installs what the tests use; the tests install nothing. The scripts the fixtures run are asked
/// the way the fixtures ask them, with every package tool replaced by one that records being called.
/// </summary>
public sealed class SetupInstallsTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("install-nothing-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task AskedForAnUnpackedSyslogNgThatIsNotThereTheScriptSaysToRunSetUpAndCallsNoPackageTool()
    {
        var (exitCode, error, calls) = await RunAsync(Repository.Path_("infra", "syslog-ng", "private.sh"), "--installed");

        Assert.Equal(1, exitCode);
        Assert.Contains("infra/setup.sh", error, StringComparison.Ordinal);
        Assert.Empty(calls);
    }

    /// <summary>Runs a script with an empty cache and stand-ins for apt, dpkg and sudo first on the PATH.</summary>
    private async Task<(int ExitCode, string Error, string[] Calls)> RunAsync(string script, params string[] args)
    {
        var bin = _root.CreateSubdirectory("bin").FullName;
        var log = Path.Combine(_root.FullName, "calls.log");
        foreach (var tool in new[] { "apt", "apt-get", "apt-cache", "dpkg", "dpkg-query", "sudo" })
        {
            var stub = Path.Combine(bin, tool);
            await File.WriteAllTextAsync(stub, $"#!/bin/sh\necho \"{tool} $*\" >> '{log}'\nexit 1\n");
            File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["PIPELINE_CACHE"] = Path.Combine(_root.FullName, "cache");
        info.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(deadline.Token);
        await stdout;
        return (process.ExitCode, await stderr, File.Exists(log) ? await File.ReadAllLinesAsync(log) : []);
    }
}
