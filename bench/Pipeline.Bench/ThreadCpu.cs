using System.Runtime.InteropServices;

namespace Pipeline.Bench;

/// <summary>
/// CPU time of the calling thread (Linux <c>getrusage(RUSAGE_THREAD)</c>): on a shared machine a thread that
/// waits for a core shows in its wall-clock time but not here, so per-event CPU time compares code, not load.
/// </summary>
internal static partial class ThreadCpu
{
    private const int RusageThread = 1;

    public static TimeSpan Now()
    {
        if (!OperatingSystem.IsLinux() || GetRusage(RusageThread, out var usage) != 0) return TimeSpan.Zero;
        return TimeSpan.FromTicks((usage.UserSeconds + usage.SystemSeconds) * TimeSpan.TicksPerSecond
            + (usage.UserMicroseconds + usage.SystemMicroseconds) * TimeSpan.TicksPerMicrosecond);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        // ru_maxrss … ru_nivcsw: not read.
        private readonly long _rest0, _rest1, _rest2, _rest3, _rest4, _rest5, _rest6, _rest7, _rest8, _rest9, _rest10, _rest11, _rest12, _rest13;
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, out Rusage usage);
}
