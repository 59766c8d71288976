using System.Text.Json;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>
/// Strings of up to <see cref="MaxLength"/> UTF-8 bytes, made once and handed out again while they keep coming: a
/// direct-mapped table (a new value takes its slot), so it stays bounded whatever the stream holds, and a slot's
/// entry is replaced whole, so readers on several threads see one entry or the other, never a mix.
/// </summary>
internal static class ShortText
{
    public const int MaxLength = 48;
    private const int Slots = 4096;
    private static readonly Entry?[] Table = new Entry?[Slots];

    public static string Of(ReadOnlySpan<byte> utf8, ref Utf8JsonReader reader)
    {
        var hash = 2166136261u;
        foreach (var b in utf8) hash = (hash ^ b) * 16777619u;
        ref var slot = ref Table[hash & (Slots - 1)];
        var entry = Volatile.Read(ref slot);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8)) return entry.Value;
        var value = reader.GetString()!;
        Volatile.Write(ref slot, new Entry(utf8.ToArray(), value));
        return value;
    }

    private sealed record Entry(byte[] Utf8, string Value);
}
