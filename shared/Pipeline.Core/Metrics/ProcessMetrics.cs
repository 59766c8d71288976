using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Pipeline.Core.Metrics;

/// <summary>The process's own figures, under the names Prometheus client libraries use for them.</summary>
public sealed class ProcessMetrics
{
    public const string MeterName = "Pipeline.Process";

    public ProcessMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        var started = new DateTimeOffset(Process.GetCurrentProcess().StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
        meter.CreateObservableGauge("process_resident_memory_bytes", static () => Environment.WorkingSet, "By", "Resident memory size in bytes.");
        meter.CreateObservableCounter("process_cpu_seconds_total", static () => Environment.CpuUsage.TotalTime.TotalSeconds, "s",
            "Total user and system CPU time spent in seconds.");
        meter.CreateObservableGauge("process_start_time_seconds", () => started, "s", "Start time of the process since the Unix epoch in seconds.");
        meter.CreateObservableGauge("dotnet_gc_heap_bytes", static () => GC.GetGCMemoryInfo().HeapSizeBytes, "By",
            "Bytes in the managed heap after the last collection.");
    }
}
