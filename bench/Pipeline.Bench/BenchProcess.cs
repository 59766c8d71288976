using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Pipeline.Bench;

/// <summary>A process under measurement: CPU seconds and peak resident memory read from /proc.</summary>
internal sealed partial class BenchProcess : IDisposable
{
    private static readonly double TicksPerSecond = 100.0; // USER_HZ on Linux
    private readonly Process _process;

    private BenchProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public List<string> Output { get; } = [];

    public static BenchProcess Start(string name, string file, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
        var started = new BenchProcess(process, name);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (started.Output) started.Output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (started.Output) started.Output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>User + system CPU time so far.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>Peak resident memory (VmHWM) in bytes.</summary>
    public long PeakRssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    /// <summary>SIGTERM (a graceful stop), then waits up to <paramref name="timeout"/> for the exit; false if it did not exit.</summary>
    public bool Terminate(TimeSpan timeout)
    {
        if (_process.HasExited) return true;
        _ = kill(Pid, 15);
        return _process.WaitForExit(timeout);
    }

    /// <summary>SIGKILL of this process alone, as a crash: nothing is flushed, committed or left.</summary>
    public void Crash()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    /// <summary>Kills the process (measurements are taken before).</summary>
    public void Stop()
    {
        if (_disposed) return;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        Stop();
        _disposed = true;
        _process.Dispose();
    }

    private bool _disposed;
}
