using System.Runtime.InteropServices;

namespace Pipeline.Kafka.Native;

/// <summary>
/// Binds this assembly's librdkafka P/Invokes (<see cref="LibRdKafka"/>) to the very copy of the library
/// Confluent.Kafka loaded, so the mock cluster, the edge's producer and every Confluent.Kafka client share one
/// librdkafka. Needed because the official librdkafka.redist ships several Linux builds and Confluent.Kafka picks
/// one at run time: <c>librdkafka.so</c> links Cyrus SASL 3 (absent on Debian 12), so there it falls back to
/// <c>centos8-librdkafka.so</c>; a plain <c>[LibraryImport("librdkafka")]</c> would try the first and fail.
/// Confluent.Kafka does not expose which file it chose, so the path is read from the process's memory map.
/// </summary>
internal static class LoadedLibrary
{
    private static readonly Lazy<string> Mapped = new(Bind, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads librdkafka through Confluent.Kafka and binds the P/Invokes to it (once per process).</summary>
    public static void Ensure() => _ = Mapped.Value;

    /// <summary>The file of the librdkafka in use.</summary>
    public static string Path => Mapped.Value;

    private static string Bind()
    {
        // Before any librdkafka thread exists (see MallocArenas).
        MallocArenas.Limit(2);
        Confluent.Kafka.Library.Load();
        var path = MappedLibrary() ?? throw new DllNotFoundException("Confluent.Kafka loaded librdkafka, but no librdkafka file is mapped into this process");
        var handle = NativeLibrary.Load(path);
        NativeLibrary.SetDllImportResolver(typeof(LoadedLibrary).Assembly,
            (name, _, _) => name == LibRdKafka.Library ? handle : IntPtr.Zero);
        return path;
    }

    /// <summary>The path of the mapped file named <c>*librdkafka.so</c> (each line of /proc/self/maps ends with its path).</summary>
    private static string? MappedLibrary()
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0 && line.EndsWith("librdkafka.so", StringComparison.Ordinal)) return line[slash..];
        }
        return null;
    }
}
