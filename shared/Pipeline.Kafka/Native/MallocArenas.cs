using System.Runtime.InteropServices;

namespace Pipeline.Kafka.Native;

/// <summary>
/// Stops glibc from giving every new thread a malloc arena of its own. librdkafka allocates and frees every message
/// on its own threads, and glibc otherwise gives threads arenas of their own (up to 8 per core), each keeping what was
/// freed in it. Called from <c>Main</c> this can only stop new arenas: by then the runtime's own threads have taken
/// several (five in use at full TCP rate on the edge, measured from /proc/PID/smaps, 2026-12-06), and librdkafka's
/// threads share those. A strict cap needs <c>MALLOC_ARENA_MAX</c> in the environment before the process starts:
/// with 2, the edge's peak RSS fell from 171–183 to 136–145 MiB in the cold TCP bench and its JSON-over-HTTP rate
/// rose by a median 14 %, but its TCP rate fell by a median 16 % (six runs), so it is an operator's choice
/// (docs/edge.md), not the default. Elsewhere (musl) the call is not there or does nothing.
/// </summary>
public static partial class MallocArenas
{
    private const int ArenaMax = -8; // M_ARENA_MAX (malloc.h)

    /// <summary>No new arenas beyond <paramref name="arenas"/> (or those that already exist) unless MALLOC_ARENA_MAX says otherwise; call first thing in Main.</summary>
    public static void Limit(int arenas)
    {
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is { Length: > 0 }) return; // the operator chose
        try
        {
            _ = MallOpt(ArenaMax, arenas);
        }
        catch (EntryPointNotFoundException)
        {
        }
        catch (DllNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
