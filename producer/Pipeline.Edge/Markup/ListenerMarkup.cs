using System.Text.Json;

namespace Pipeline.Edge.Markup;

/// <summary>
/// The markup every event of one listener gets: transport, edge name, static tags and tenant, encoded
/// to JSON once at start-up and copied into each envelope as it is.
/// </summary>
internal sealed class ListenerMarkup
{
    public ListenerMarkup(string name, string transport, string edgeName, IReadOnlyDictionary<string, string> tags, string? tenant,
        Publishing.BufferMode buffer = Publishing.BufferMode.Memory)
    {
        Buffer = buffer;
        Name = name;
        Transport = transport;
        EdgeName = edgeName;
        Tenant = tenant;
        TransportJson = JsonEncodedText.Encode(transport);
        EdgeJson = JsonEncodedText.Encode(edgeName);
        TagsJson = EncodeTags(tags);
    }

    /// <summary>The listener's name in configuration and metrics.</summary>
    public string Name { get; }
    public string Transport { get; }
    public string EdgeName { get; }
    public string? Tenant { get; }
    /// <summary>What "accepted" means for this listener's events.</summary>
    public Publishing.BufferMode Buffer { get; }
    public JsonEncodedText TransportJson { get; }
    public JsonEncodedText EdgeJson { get; }
    /// <summary>The tags object, pre-encoded; null when there are none.</summary>
    public byte[]? TagsJson { get; }

    private static byte[]? EncodeTags(IReadOnlyDictionary<string, string> tags)
    {
        if (tags.Count == 0) return null;
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.Ordinal)) writer.WriteString(key, value);
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }
}
