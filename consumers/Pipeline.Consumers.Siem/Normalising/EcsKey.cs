using System.Collections.Concurrent;
using System.Text.Json;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>
/// A dotted ECS field name (<c>log.syslog.hostname</c>), interned once per process: its path segments, each
/// JSON-encoded once and shared by every key that has it at the same place (so two keys share a parent object
/// when their segments are the same instances), and its place in ordinal order among all keys known so far. A
/// document then orders and nests its fields by comparing integers and references, never strings.
/// </summary>
internal sealed class EcsKey
{
    private static readonly ConcurrentDictionary<string, EcsKey> ByName = new(StringComparer.Ordinal);
    private static readonly Dictionary<(int Depth, string Parent, string Text), EcsSegment> Segments = [];
    private static readonly Lock Registering = new();
    private static readonly List<EcsKey> All = [];
    private static int[] s_ranks = [];

    private EcsKey(string name, int id, EcsSegment[] path)
    {
        Name = name;
        Id = id;
        Path = path;
    }

    public string Name { get; }

    /// <summary>Index of this key among all keys (the index into <see cref="Ranks"/>).</summary>
    public int Id { get; }

    /// <summary>The segments between dots; the same instance for the same path up to and including it.</summary>
    public EcsSegment[] Path { get; }

    /// <summary>
    /// Rank in ordinal order of every key, by <see cref="Id"/>. A new key makes a new array (old ones stay valid
    /// for the keys they hold), so a document reads it once per write and sorts with it.
    /// </summary>
    public static int[] Ranks => Volatile.Read(ref s_ranks);

    /// <summary>The key of <paramref name="name"/>, made on first use.</summary>
    public static EcsKey Of(string name) => ByName.TryGetValue(name, out var key) ? key : Register(name);

    public override string ToString() => Name;

    private static EcsKey Register(string name)
    {
        lock (Registering)
        {
            if (ByName.TryGetValue(name, out var known)) return known;
            var parts = name.Split('.');
            var path = new EcsSegment[parts.Length];
            var parent = "";
            for (var i = 0; i < parts.Length; i++)
            {
                if (!Segments.TryGetValue((i, parent, parts[i]), out var segment))
                    Segments[(i, parent, parts[i])] = segment = new EcsSegment(JsonEncodedText.Encode(parts[i], System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
                path[i] = segment;
                parent = parent.Length == 0 ? parts[i] : parent + "." + parts[i];
            }
            var key = new EcsKey(name, All.Count, path);
            All.Add(key);
            var ranks = new int[All.Count];
            var order = All.OrderBy(k => k.Name, StringComparer.Ordinal).ToList();
            for (var rank = 0; rank < order.Count; rank++) ranks[order[rank].Id] = rank;
            Volatile.Write(ref s_ranks, ranks);
            ByName[name] = key;
            return key;
        }
    }
}

/// <summary>One segment of a key's path, JSON-encoded once; compared by reference.</summary>
internal sealed class EcsSegment(JsonEncodedText name)
{
    public JsonEncodedText Name { get; } = name;
}
