using System.Collections.Concurrent;
using System.Diagnostics;
using Pipeline.Ops.Workers;

namespace Pipeline.Ops.Replay;

/// <summary>A worker started for a replay: its output kept (shown when it fails), stopped with SIGTERM so it drains and commits.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TextWriter? _echo;

    private WorkerProcess(Process process, TextWriter? echo)
    {
        _process = process;
        _echo = echo;
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines it wrote.</summary>
    public IReadOnlyList<string> Output => _output.ToArray();

    public static WorkerProcess Start(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, TextWriter? echo)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var process = new Process { StartInfo = info };
        var worker = new WorkerProcess(process, echo);
        process.OutputDataReceived += (_, e) => worker.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGTERM, then up to <paramref name="grace"/> to finish its batch and leave the group; SIGKILL after.</summary>
    public Task StopAsync(TimeSpan grace) => GracefulStop.StopAsync(_process, grace);

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > 200) _output.TryDequeue(out _);
        if (_echo is not null) lock (_echo) _echo.WriteLine("[worker] " + line);
    }
}
