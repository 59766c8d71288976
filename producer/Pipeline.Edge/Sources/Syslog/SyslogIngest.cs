using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// What happens to one syslog line whatever transport brought it: parse → route → sample → mark up →
/// publish. Runs on the receiving thread; it never waits on Kafka.
/// </summary>
internal sealed class SyslogIngest(Router router, EdgePublisher publisher, LossLedger ledger, ITimeZoneResolver timeZones, TimeProvider time)
{
    /// <summary>
    /// Takes one line (one datagram or frame) and publishes it; when every buffer is full the event is
    /// dropped and counted (<see cref="DropReason.BufferFull"/>). For transports that cannot push back (UDP).
    /// </summary>
    public PublishOutcome AcceptOrDrop(ReadOnlySpan<byte> line, IngestOrigin origin)
    {
        var prepared = PrepareInPlace(line, origin);
        if (prepared.Route is null) return PublishOutcome.Accepted;
        var outcome = Offer(prepared, senderWaits: false);
        if (outcome == PublishOutcome.Full) prepared.Cell.ReceivedAndDropped(DropReason.BufferFull);
        return outcome;
    }

    /// <summary>
    /// Takes one line from a sender that can wait (TCP) and publishes it. When there is no room,
    /// <paramref name="retained"/> is the event (with its own copy of the bytes) for the caller to offer again
    /// with <see cref="Offer(PreparedEvent, DeliveryWaiter?, bool)"/> (the sender still waits) once <see cref="WaitForRoomAsync"/> says there is room.
    /// </summary>
    public PublishOutcome Accept(ReadOnlySpan<byte> line, IngestOrigin origin, out PreparedEvent? retained)
    {
        retained = null;
        var prepared = PrepareInPlace(line, origin);
        if (prepared.Route is null) return PublishOutcome.Accepted;
        var outcome = Offer(prepared, senderWaits: true);
        if (outcome == PublishOutcome.Full) retained = prepared.ToOwned();
        return outcome;
    }

    /// <summary>
    /// Parses, routes, samples and marks up one line. Null when there is nothing to publish: an empty
    /// line (not an event), or an event sampling left out (counted as such).
    /// </summary>
    public PreparedEvent? Prepare(ReadOnlySpan<byte> line, IngestOrigin origin)
    {
        var prepared = PrepareInPlace(line, origin);
        return prepared.Route is null ? null : prepared.ToOwned();
    }

    /// <summary>As <see cref="Prepare"/>, over borrowed bytes; the route is null when there is nothing to publish.</summary>
    private BorrowedEvent PrepareInPlace(ReadOnlySpan<byte> line, IngestOrigin origin)
    {
        line = TrimEnd(line);
        if (line.IsEmpty) return default;

        var receivedAt = time.GetUtcNow();
        var message = SyslogParser.Parse(line, new SyslogParseContext(receivedAt, origin.Peer?.Address, timeZones));
        var facts = new RoutingFacts
        {
            Facility = message.Facility,
            Severity = message.Severity,
            App = message.AppName.Of(line),
            Kind = EventKinds.Log,
            Tenant = origin.Stream?.Tenant ?? origin.Listener.Tenant,
            Listener = origin.Listener.Name,
        };
        var route = router.Choose(facts);
        var cell = ledger.Cell(origin.Listener.Name, route.Name);
        cell.Parsed(message.Status != ParseStatus.Ok);
        if (!route.Keep())
        {
            cell.ReceivedAndDropped(DropReason.SampledOut);
            return default;
        }
        var envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(receivedAt, EventKinds.Log, origin, route.SampleRate), line, message);
        var hasKey = TryKey(line, message, origin, out var key);
        return new BorrowedEvent(route, cell, key, hasKey, envelope, origin.Listener.Buffer);
    }

    /// <summary>
    /// Hands a prepared event over; <see cref="PublishOutcome.Full"/> leaves it to the caller to offer again.
    /// <paramref name="senderWaits"/> as for <see cref="EdgePublisher.Publish"/>.
    /// </summary>
    public PublishOutcome Offer(PreparedEvent prepared, DeliveryWaiter? waiter = null, bool senderWaits = false) =>
        prepared.OfferTo(publisher, waiter, senderWaits);

    private PublishOutcome Offer(in BorrowedEvent prepared, bool senderWaits) =>
        publisher.Publish(prepared.Route!, prepared.Cell, prepared.Key, prepared.HasKey, prepared.Envelope, prepared.Buffer, senderWaits: senderWaits);

    /// <summary>Waits until the publisher has room for the event's priority (TCP backpressure).</summary>
    public Task WaitForRoomAsync(PreparedEvent prepared, CancellationToken cancellationToken) =>
        publisher.WaitForRoomAsync(prepared.Route.Priority, prepared.Buffer, cancellationToken);

    /// <summary>The host keeps one source's events in order on one partition; without a hostname, the sender's address.</summary>
    private static bool TryKey(ReadOnlySpan<byte> line, scoped in SyslogMessage message, IngestOrigin origin, out ReadOnlySpan<byte> key)
    {
        if (message.Hostname.IsPresent && message.Hostname.Length > 0)
        {
            key = message.Hostname.Of(line);
            return true;
        }
        key = origin.PeerAddressBytes;
        return origin.Peer is not null;
    }

    // Senders end lines with LF, CRLF or NUL; none of it is part of the message.
    private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> line)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\n' or (byte)'\r' or 0) end--;
        return line[..end];
    }
}
