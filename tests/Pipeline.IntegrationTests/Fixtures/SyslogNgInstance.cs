using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A private syslog-ng of the test's own (foreground, own config, persist file and control socket), unpacked
/// from Debian's package by infra/syslog-ng/private.sh because it cannot be installed next to rsyslog. It
/// takes RFC 5424 over TCP on a loopback port and forwards with a configuration file of infra/syslog-ng,
/// exactly as a user would drop it into /etc/syslog-ng/conf.d — only the target address and port are filled in.
/// </summary>
internal sealed class SyslogNgInstance : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _output = new();

    private SyslogNgInstance(Process process, string directory, int inputPort)
    {
        _process = process;
        _directory = directory;
        InputPort = inputPort;
    }

    /// <summary>TCP port syslog-ng listens on (RFC 5424, octet-counted: logger --tcp --octet-count --rfc5424).</summary>
    public int InputPort { get; }

    public string Output => string.Join('\n', _output);

    public static async Task<SyslogNgInstance> StartAsync(string configFile, string edgeHost, int edgePort)
    {
        // infra/setup.sh unpacked it; asked with --installed, the script only prints the folder (or fails), installing nothing.
        var prefix = (await Peers.RunAsync("bash", [Repository.Path_("infra", "syslog-ng", "private.sh"), "--installed"], timeout: TimeSpan.FromMinutes(1))).Trim();
        var modules = Directory.GetDirectories(Path.Combine(prefix, "usr", "lib", "syslog-ng"), "3.*").Single();
        var version = Path.GetFileName(modules);
        var directory = Directory.CreateTempSubdirectory("syslog-ng-").FullName;
        var inputPort = FreePort.Next();
        var snippet = (await File.ReadAllTextAsync(Repository.Path_("infra", "syslog-ng", configFile)))
            .Replace("EDGE_HOST", edgeHost, StringComparison.Ordinal)
            .Replace("port(5514)", string.Create(CultureInfo.InvariantCulture, $"port({edgePort})"), StringComparison.Ordinal);
        var config = Path.Combine(directory, "syslog-ng.conf");
        // What Debian's syslog-ng.conf provides around conf.d: a version line and the s_src source (here a TCP input).
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $$"""
            @version: {{version}}
            options { keep-hostname(yes); stats-freq(0); };
            source s_src { syslog(ip("127.0.0.1") port({{inputPort}}) transport("tcp")); };
            {{snippet}}
            """));
        var info = new ProcessStartInfo(Path.Combine(prefix, "usr", "sbin", "syslog-ng"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in new[]
        {
            "-F", "--stderr", "-f", config, $"--module-path={modules}", "-R", Path.Combine(directory, "syslog-ng.persist"),
            "-p", Path.Combine(directory, "syslog-ng.pid"), "-c", Path.Combine(directory, "syslog-ng.ctl"),
        })
            info.ArgumentList.Add(arg);
        info.Environment["LD_LIBRARY_PATH"] = Path.Combine(prefix, "usr", "lib", "syslog-ng");
        var process = Process.Start(info) ?? throw new InvalidOperationException("syslog-ng did not start");
        var instance = new SyslogNgInstance(process, directory, inputPort);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) instance._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) instance._output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Eventually.True(() => Task.FromResult(process.HasExited || FreePort.IsListening(inputPort)), TimeSpan.FromSeconds(20), "syslog-ng listening");
        if (process.HasExited) throw new InvalidOperationException($"syslog-ng exited with {process.ExitCode}:\n{instance.Output}");
        return instance;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
