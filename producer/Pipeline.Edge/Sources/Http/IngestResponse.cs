namespace Pipeline.Edge.Sources.Http;

/// <summary>The reply to an ingest request.</summary>
internal sealed class IngestResponse
{
    /// <summary>
    /// Events taken (in the producer's queue or the spool; sampled-out ones are counted apart). With <c>?ack=kafka</c>,
    /// only those Kafka acknowledged before the reply.
    /// </summary>
    public int Accepted { get; set; }
    public int SampledOut { get; set; }
    /// <summary>Events dropped because buffers were filling and their route is low priority.</summary>
    public int Shed { get; set; }
    /// <summary>Events refused for their size (each also in <see cref="Errors"/>); never accepted, counted as too_large.</summary>
    public int TooLarge { get; set; }
    /// <summary>With <c>?ack=kafka</c>: events Kafka acknowledged before the reply.</summary>
    public int? Acknowledged { get; set; }
    /// <summary>With <c>?ack=kafka</c>: events taken that Kafka had not acknowledged by the reply (still on their way, or refused).</summary>
    public int? Unacknowledged { get; set; }
    public List<LineError>? Errors { get; set; }
    public string? Error { get; set; }
    /// <summary>On 503: the first line (1-based) not taken; resend from there.</summary>
    public int? ResumeFromLine { get; set; }
}

internal sealed record LineError(int Line, string Error);

/// <summary>The WebSocket reply to a message that was not stored: the running count and why.</summary>
internal sealed record StreamReply(long Stored, string Error);
