using System.Text.Json;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>RFC 5424 STRUCTURED-DATA as JSON: <c>{"sd-id": {"param": "value", ...}, ...}</c>.</summary>
public static class StructuredData
{
    /// <summary>Writes the elements of <paramref name="sd"/> (as the line has them) as one JSON object.
    /// (Walking-skeleton version: writes nothing but an empty object.)</summary>
    public static void WriteJson(ReadOnlySpan<byte> sd, Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteEndObject();
    }
}
