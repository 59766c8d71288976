using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http;
using System.Runtime.InteropServices;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// One of the pipeline's executables running as its own process, as in production: started with
/// arguments and environment, its output kept for the test's failure message, stopped with SIGTERM or
/// killed with SIGKILL.
/// </summary>
internal sealed class PipelineProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private PipelineProcess(Process process, string name, string? healthUrl)
    {
        _process = process;
        Name = name;
        HealthUrl = healthUrl;
    }

    public string Name { get; }
    public string? HealthUrl { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string Output => string.Join('\n', _output);

    /// <summary>Starts <paramref name="projectFolder"/>'s executable; <paramref name="healthUrl"/> is polled by <see cref="WaitHealthyAsync"/>.</summary>
    public static PipelineProcess Start(string projectFolder, IEnumerable<string> args, IDictionary<string, string>? environment = null, string? healthUrl = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        info.ArgumentList.Add(Repository.Executable(projectFolder));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var started = new PipelineProcess(process, Path.GetFileName(projectFolder), healthUrl);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) started.Keep(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) started.Keep(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    public async Task WaitHealthyAsync(TimeSpan? timeout = null)
    {
        if (HealthUrl is null) throw new InvalidOperationException($"{Name} has no health URL");
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await Http.GetAsync(HealthUrl);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{Name} not healthy at {HealthUrl}:\n{Output}");
    }

    /// <summary>GET a path on the process's HTTP port (e.g. <c>/metrics</c>).</summary>
    public async Task<string> GetAsync(string path)
    {
        var baseUri = new Uri(HealthUrl ?? throw new InvalidOperationException("no HTTP endpoint"));
        return await Http.GetStringAsync(new Uri(baseUri, path));
    }

    /// <summary>SIGTERM, then wait for a clean exit.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process.HasExited) return;
        Signals.Terminate(_process.Id);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(40));
        await _process.WaitForExitAsync(cts.Token);
    }

    /// <summary>SIGKILL: no chance to flush or commit anything.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private void Keep(string line)
    {
        _output.Enqueue(line);
        while (_output.Count > 2000) _output.TryDequeue(out _);
    }
}

internal static partial class Signals
{
    private const int SigTerm = 15;

    public static void Terminate(int pid)
    {
        if (kill(pid, SigTerm) != 0) throw new InvalidOperationException($"kill({pid}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
