using System.Diagnostics;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A private rsyslogd (foreground, own config, work directory and pid file) that takes syslog on a TCP
/// input port and forwards it with one of the configuration snippets of infra/rsyslog, exactly as a user
/// would drop it into /etc/rsyslog.d — only the target address and port are filled in.
/// </summary>
internal sealed class RsyslogInstance : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private RsyslogInstance(Process process, string directory, int inputPort)
    {
        _process = process;
        _directory = directory;
        InputPort = inputPort;
    }

    /// <summary>TCP port rsyslog listens on (send test lines here with logger --tcp).</summary>
    public int InputPort { get; }

    /// <summary>Starts rsyslogd forwarding with <paramref name="snippetFile"/> (a file under infra/rsyslog) to the edge.</summary>
    public static async Task<RsyslogInstance> StartAsync(string snippetFile, string edgeHost, int edgePort, IReadOnlyDictionary<string, string>? extraReplacements = null)
    {
        Peers.Require("/usr/sbin/rsyslogd", "rsyslog");
        var directory = Directory.CreateTempSubdirectory("rsyslog-").FullName;
        var inputPort = FreePort.Next();
        var snippet = (await File.ReadAllTextAsync(Repository.Path_("infra", "rsyslog", snippetFile)))
            .Replace("EDGE_HOST", edgeHost, StringComparison.Ordinal)
            .Replace("port=\"5514\"", $"port=\"{edgePort}\"", StringComparison.Ordinal);
        foreach (var (from, to) in extraReplacements ?? new Dictionary<string, string>()) snippet = snippet.Replace(from, to, StringComparison.Ordinal);
        var config = Path.Combine(directory, "rsyslog.conf");
        await File.WriteAllTextAsync(config, $"""
            global(workDirectory="{directory}")
            module(load="imtcp")
            input(type="imtcp" address="127.0.0.1" port="{inputPort}")
            {snippet}
            """);
        var info = new ProcessStartInfo("rsyslogd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-n", "-f", config, "-i", Path.Combine(directory, "rsyslogd.pid") }) info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        var instance = new RsyslogInstance(process, directory, inputPort);
        await Eventually.True(() => Task.FromResult(process.HasExited || FreePort.IsListening(inputPort)), TimeSpan.FromSeconds(20), "rsyslogd listening");
        if (process.HasExited) throw new InvalidOperationException($"rsyslogd exited: {await process.StandardError.ReadToEndAsync()}");
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
