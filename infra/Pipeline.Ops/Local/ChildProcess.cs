using System.Diagnostics;
using Pipeline.Ops.Workers;

namespace Pipeline.Ops.Local;

/// <summary>A worker started by <c>local</c>: its output prefixed with its name, stopped with SIGTERM.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly object ConsoleGate = new();
    private readonly Process _process;

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }
    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        // Each worker in its own session: a Ctrl-C in the terminal reaches only `local`, which then stops
        // the workers in order (the edge drains into Kafka before the consumers leave). setsid execs in place, so the pid is the worker's.
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Print(name, e.Data);
        process.ErrorDataReceived += (_, e) => Print(name, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(name, process);
    }

    /// <summary>SIGTERM, then up to <paramref name="grace"/> to finish its batch and leave its group; SIGKILL after.</summary>
    public Task StopAsync(TimeSpan grace) => GracefulStop.StopAsync(_process, grace);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
    }

    private static void Print(string name, string? line)
    {
        if (line is null) return;
        lock (ConsoleGate) Console.Out.WriteLine($"[{name}] {line}");
    }
}
