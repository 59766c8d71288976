using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Publishing;

/// <summary>An event ready to publish, holding its own copy of its key and envelope (it may wait for room).</summary>
internal sealed record PreparedEvent(EventRoute Route, LedgerCell Cell, byte[]? Key, byte[] Envelope, BufferMode Buffer)
{
    public PublishOutcome OfferTo(EdgePublisher publisher, DeliveryWaiter? waiter, bool senderWaits = false) =>
        publisher.Publish(Route, Cell, Key, Key is not null, Envelope, Buffer, waiter, senderWaits);
}

/// <summary>
/// An event ready to publish over borrowed bytes: the key is part of what arrived (a syslog line, a request
/// body), the envelope is in the thread's envelope buffer. Valid until the thread writes its next envelope;
/// the hot path publishes it at once and copies it (<see cref="ToOwned"/>) only when it must wait.
/// </summary>
internal readonly ref struct BorrowedEvent(EventRoute route, LedgerCell cell, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> envelope, BufferMode buffer)
{
    /// <summary>Null when there is nothing to publish (an empty line, an event sampled out, an invalid one).</summary>
    public EventRoute? Route { get; } = route;
    public LedgerCell Cell { get; } = cell;
    public ReadOnlySpan<byte> Key { get; } = key;
    public bool HasKey { get; } = hasKey;
    public ReadOnlySpan<byte> Envelope { get; } = envelope;
    public BufferMode Buffer { get; } = buffer;

    public PreparedEvent ToOwned() => new(Route!, Cell, HasKey ? Key.ToArray() : null, Envelope.ToArray(), Buffer);
}
