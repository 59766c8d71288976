using System.Text.Json;

namespace Pipeline.Core.Envelope;

/// <summary>Reads and writes the v1 envelope with source-generated (reflection-free) serialisation.</summary>
public static class EnvelopeCodec
{
    /// <summary>Value of the <see cref="KafkaHeaders.Schema"/> header on every message the edge publishes.</summary>
    public const string SchemaVersion = "1";

    /// <summary>Value of the <see cref="KafkaHeaders.ContentType"/> header.</summary>
    public const string ContentType = "application/json";

    /// <summary>Decodes one envelope; throws <see cref="EnvelopeFormatException"/> on anything that is not one.</summary>
    public static TelemetryEvent Decode(ReadOnlySpan<byte> utf8Json)
    {
        TelemetryEvent? decoded;
        try
        {
            decoded = JsonSerializer.Deserialize(utf8Json, EnvelopeJsonContext.Default.TelemetryEvent);
        }
        catch (JsonException ex)
        {
            throw new EnvelopeFormatException($"not a v1 envelope: {ex.Message}", ex);
        }
        if (decoded is null || string.IsNullOrEmpty(decoded.Id))
            throw new EnvelopeFormatException("not a v1 envelope: no id");
        return decoded;
    }

    public static byte[] Encode(TelemetryEvent telemetryEvent) =>
        JsonSerializer.SerializeToUtf8Bytes(telemetryEvent, EnvelopeJsonContext.Default.TelemetryEvent);

    public static void Encode(Utf8JsonWriter writer, TelemetryEvent telemetryEvent) =>
        JsonSerializer.Serialize(writer, telemetryEvent, EnvelopeJsonContext.Default.TelemetryEvent);
}

/// <summary>A Kafka message whose value is not a v1 envelope (a poison record for sinks).</summary>
public sealed class EnvelopeFormatException : Exception
{
    public EnvelopeFormatException(string message) : base(message) { }
    public EnvelopeFormatException(string message, Exception inner) : base(message, inner) { }
}
