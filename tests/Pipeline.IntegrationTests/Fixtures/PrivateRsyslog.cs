using System.Diagnostics;
using System.Globalization;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A real rsyslogd of the test's own, in the foreground, listening with imtcp on a loopback port (octet
/// counting is on by default) and writing each message's MSG part to a file — the SIEM a CEF forwarder
/// talks to. infra/setup.sh installs it from Debian.
/// It can be stopped and started again on the same port and file, as a SIEM that goes down for a while.
/// </summary>
internal sealed class PrivateRsyslog : IAsyncDisposable
{
    private readonly string _dir;
    private readonly string _config;
    private Process? _process;

    private PrivateRsyslog(string dir, int port)
    {
        _dir = dir;
        Port = port;
        OutputFile = Path.Combine(dir, "received.log");
        _config = Path.Combine(dir, "rsyslog.conf");
        File.WriteAllText(_config, string.Create(CultureInfo.InvariantCulture, $$"""
            global(workDirectory="{{dir}}" maxMessageSize="64k")
            module(load="imtcp")
            template(name="msgonly" type="string" string="%msg%\n")
            ruleset(name="siem") {
              action(type="omfile" file="{{OutputFile}}" template="msgonly" flushOnTXEnd="on" asyncWriting="off")
            }
            input(type="imtcp" address="127.0.0.1" port="{{port}}" ruleset="siem")
            """));
    }

    public int Port { get; }
    public string OutputFile { get; }
    public string Endpoint => $"127.0.0.1:{Port}";
    public bool Running => _process is { HasExited: false };

    public static async Task<PrivateRsyslog> StartAsync()
    {
        EnsureInstalled();
        var dir = Path.Combine(Path.GetTempPath(), "rsyslog-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        var rsyslog = new PrivateRsyslog(dir, FreePort.Next());
        await rsyslog.StartAgainAsync();
        return rsyslog;
    }

    private static void EnsureInstalled() => Peers.Require("/usr/sbin/rsyslogd", "rsyslog");

    /// <summary>Starts rsyslogd and waits until its port accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        if (Running) return;
        var info = new ProcessStartInfo("/usr/sbin/rsyslogd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-n", "-f", _config, "-i", Path.Combine(_dir, "rsyslogd.pid") }) info.ArgumentList.Add(arg);
        _process = Process.Start(info) ?? throw new InvalidOperationException("rsyslogd did not start");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.True(() => Task.FromResult(Accepts()), TimeSpan.FromSeconds(20), $"rsyslogd listening on {Endpoint}");
    }

    /// <summary>SIGTERM: rsyslogd flushes and exits; its port refuses connections until started again.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        Signals.Terminate(_process.Id);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(cts.Token);
    }

    /// <summary>Lines written so far (the CEF text of each message).</summary>
    public IReadOnlyList<string> Lines()
    {
        if (!File.Exists(OutputFile)) return [];
        using var stream = new FileStream(OutputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) lines.Add(line.TrimStart());
        return lines;
    }

    private bool Accepts()
    {
        if (_process is { HasExited: true }) throw new InvalidOperationException($"rsyslogd exited with {_process.ExitCode}");
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
