using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pipeline.Ops.Workers;

/// <summary>How the operator tool stops a worker it started: as an orchestrator would, not by killing it outright.</summary>
internal static partial class GracefulStop
{
    private const int Sigterm = 15;

    /// <summary>SIGTERM, then up to <paramref name="grace"/> to finish its batch and leave its group; SIGKILL after.</summary>
    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        if (process.HasExited) return;
        _ = kill(process.Id, Sigterm);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
