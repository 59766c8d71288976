using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A real Prometheus server (Debian's package) with a private configuration and data directory, listening on a
/// free loopback port, queried through its HTTP API as Grafana and alertmanager would.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();

    private PrometheusServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    /// <summary>
    /// Starts Prometheus scraping <paramref name="jobs"/> (job name → loopback port) every second and evaluating
    /// <paramref name="ruleFiles"/> every second.
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(IReadOnlyDictionary<string, int> jobs, IEnumerable<string> ruleFiles)
    {
        var directory = Directory.CreateTempSubdirectory("prometheus-").FullName;
        var config = new StringBuilder();
        config.AppendLine("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s");
        config.AppendLine("rule_files:");
        foreach (var file in ruleFiles) config.AppendLine(CultureInfo.InvariantCulture, $"  - {file}");
        config.AppendLine("scrape_configs:");
        foreach (var (job, target) in jobs)
            config.AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{target}']");
        var configFile = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, config.ToString());

        var port = FreePort.Next();
        var info = new ProcessStartInfo("prometheus") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { $"--config.file={configFile}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn" })
            info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start prometheus");
        var server = new PrometheusServer(process, directory, port);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Eventually.True(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{server.Output}");
            try
            {
                using var response = await Http.GetAsync(new Uri(server.Url + "/-/ready"));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "prometheus ready");
        return server;
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>An instant query; throws with Prometheus's error when the query is refused.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using var document = await GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        var data = document.RootElement.GetProperty("data");
        Assert.Equal("vector", data.GetProperty("resultType").GetString());
        return data.GetProperty("result").EnumerateArray().Select(r => (
            r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>GET on the HTTP API; the response's <c>status</c> must be <c>success</c>.</summary>
    public async Task<JsonDocument> GetAsync(string pathAndQuery)
    {
        using var response = await Http.GetAsync(new Uri(Url + pathAndQuery));
        var body = await response.Content.ReadAsStringAsync();
        var document = JsonDocument.Parse(body);
        if (document.RootElement.GetProperty("status").GetString() != "success")
            throw new InvalidOperationException($"{pathAndQuery}: {body}");
        return document;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
