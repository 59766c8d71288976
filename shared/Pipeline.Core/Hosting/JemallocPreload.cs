namespace Pipeline.Core.Hosting;

/// <summary>
/// The edge runs on jemalloc (Debian's <c>libjemalloc2</c>) where it is installed, preloaded by whatever starts it:
/// librdkafka allocates every message (its payload copied, two headers) on the thread that produces it and frees it on
/// the thread that takes Kafka's delivery reports, so with glibc's malloc every allocation finds its thread's cache
/// empty and takes the slow path (<c>_int_malloc</c> was a fifth of the UDP processing threads' CPU). Measured in the
/// edge bench with <see cref="Settings"/>: 30–40 % less CPU per TCP and HTTP message at full rate, and less than glibc at a
/// paced rate too (BENCHMARKS.md, "The edge on jemalloc"). An operator's own
/// <c>LD_PRELOAD</c> (set, even empty) is left as it is: <c>LD_PRELOAD=</c> runs the edge on glibc. With the preload
/// comes <see cref="Settings"/> in <c>MALLOC_CONF</c>, unless that is set already.
/// </summary>
public static class JemallocPreload
{
    public const string Variable = "LD_PRELOAD";

    /// <summary>jemalloc's settings, read from the environment when it starts.</summary>
    public const string SettingsVariable = "MALLOC_CONF";

    /// <summary>
    /// Large allocations up to 128 KiB kept in each thread's cache (jemalloc's default stops at 32 KiB): librdkafka takes a
    /// ~64 KiB buffer per produce request, which jemalloc otherwise hands back to the kernel (<c>madvise</c>, ~250 a second at
    /// 50,000 datagrams/s, each a TLB shootdown) and faults in again — at a paced load that cost more than glibc's malloc.
    /// </summary>
    public const string Settings = "tcache_max:131072";

    /// <summary>Where the container image links it (any architecture), then where Debian and others install it.</summary>
    private static readonly string[] Candidates =
    [
        "/usr/local/lib/libjemalloc.so.2", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
        "/usr/lib64/libjemalloc.so.2", "/usr/lib/libjemalloc.so.2",
    ];

    /// <summary>The installed library, or null.</summary>
    public static string? Find() => Array.Find(Candidates, File.Exists);

    /// <summary>
    /// Adds the preload to <paramref name="environment"/> (of a process about to start) unless it or this process's
    /// own environment already says what to preload, or jemalloc is not installed (then the edge runs on glibc).
    /// </summary>
    public static void AddTo(IDictionary<string, string> environment)
    {
        if (environment.ContainsKey(Variable) || Environment.GetEnvironmentVariable(Variable) is not null) return;
        if (Find() is not { } library) return;
        environment[Variable] = library;
        if (!environment.ContainsKey(SettingsVariable) && Environment.GetEnvironmentVariable(SettingsVariable) is null) environment[SettingsVariable] = Settings;
    }
}
