namespace Pipeline.Edge.Publishing;

/// <summary>
/// The largest envelope Kafka will take, checked before an event is accepted so that "accepted" keeps meaning "will be
/// delivered": the producer refuses a record whose key, value, headers and framing exceed its <c>message.max.bytes</c>
/// (<see cref="Pipeline.Kafka.Producing.ProducerSettings.MessageMaxBytes"/>). Every ingest path asks here; the
/// publisher asks again, so a path that forgot cannot turn an oversized event into a <c>kafka_rejected</c> loss.
/// </summary>
internal sealed class EnvelopeSizeLimit
{
    /// <summary>
    /// Bytes a record needs beside its key and value: the two envelope headers (schema, content type: about 40 bytes
    /// with their lengths) and the record's own framing in a v2 batch (at most about 25 bytes of varints), rounded up.
    /// </summary>
    public const int RecordOverheadBytes = 128;

    public EnvelopeSizeLimit(int messageMaxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(messageMaxBytes, RecordOverheadBytes + 1024);
        MessageMaxBytes = messageMaxBytes;
    }

    /// <summary>The producer's <c>message.max.bytes</c>.</summary>
    public int MessageMaxBytes { get; }

    /// <summary>The largest envelope that fits with a key of <paramref name="keyLength"/> bytes.</summary>
    public int MaxEnvelopeBytes(int keyLength) => MessageMaxBytes - RecordOverheadBytes - keyLength;

    public bool Fits(int keyLength, int envelopeLength) => envelopeLength <= MaxEnvelopeBytes(keyLength);

    /// <summary>The reply an ingest path gives for an event it refuses because of this limit.</summary>
    public string TooLargeError(int envelopeLength) =>
        $"too_large: the event's envelope would be {envelopeLength} bytes, more than Kafka takes (Edge:Producer:MessageMaxBytes {MessageMaxBytes}); it was not accepted";
}
