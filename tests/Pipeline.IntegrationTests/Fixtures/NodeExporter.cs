using System.Diagnostics;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A private instance of Debian's prometheus-node-exporter on a free loopback port, with only collectors that
/// read and touch nothing (load, memory, CPU times, uname, time). Started by the test, stopped by PID.
/// </summary>
internal sealed class NodeExporter : IAsyncDisposable
{
    private readonly Process _process;

    private NodeExporter(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/metrics";
    public string Instance => $"127.0.0.1:{Port}";

    public static async Task<NodeExporter> StartAsync()
    {
        var port = FreePort.Next();
        var info = new ProcessStartInfo("prometheus-node-exporter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[$"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults", "--collector.loadavg",
                     "--collector.meminfo", "--collector.cpu", "--collector.uname", "--collector.time"])
            info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start prometheus-node-exporter (infra/setup.sh installs it)");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exporter = new NodeExporter(process, port);
        await Eventually.True(() => process.HasExited ? throw new InvalidOperationException("prometheus-node-exporter exited") : FreePort.IsListening(port),
            TimeSpan.FromSeconds(20), "node exporter listening");
        return exporter;
    }

    /// <summary>The exporter's exposition as it serves it now.</summary>
    public async Task<MetricsText> ScrapeAsync()
    {
        using var http = new HttpClient();
        return MetricsText.Parse(await http.GetStringAsync(Url));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
