using System.Text;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>An event ready to publish: its route, ledger cell, key and envelope.</summary>
internal sealed record PreparedEvent(EventRoute Route, LedgerCell Cell, byte[]? Key, byte[] Envelope, BufferMode Buffer);

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
        if (Prepare(line, origin) is not { } prepared) return PublishOutcome.Accepted;
        var outcome = Offer(prepared);
        if (outcome == PublishOutcome.Full) prepared.Cell.ReceivedAndDropped(DropReason.BufferFull);
        return outcome;
    }

    /// <summary>
    /// Parses, routes, samples and marks up one line. Null when there is nothing to publish: an empty
    /// line (not an event), or an event sampling left out (counted as such).
    /// </summary>
    public PreparedEvent? Prepare(ReadOnlySpan<byte> line, IngestOrigin origin)
    {
        line = TrimEnd(line);
        if (line.IsEmpty) return null;

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
            return null;
        }
        var envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(receivedAt, EventKinds.Log, origin, route.SampleRate), line, message);
        return new PreparedEvent(route, cell, Key(line, message, origin), envelope.ToArray(), origin.Listener.Buffer);
    }

    /// <summary>Hands a prepared event over; <see cref="PublishOutcome.Full"/> leaves it to the caller to offer again.</summary>
    public PublishOutcome Offer(PreparedEvent prepared, DeliveryWaiter? waiter = null) =>
        publisher.Publish(prepared.Route, prepared.Cell, prepared.Key, prepared.Envelope, prepared.Buffer, waiter);

    /// <summary>Waits until the publisher has room for the event's priority (TCP backpressure).</summary>
    public Task WaitForRoomAsync(PreparedEvent prepared, CancellationToken cancellationToken) =>
        publisher.WaitForRoomAsync(prepared.Route.Priority, prepared.Buffer, cancellationToken);

    /// <summary>The host keeps one source's events in order on one partition; without a hostname, the sender's address.</summary>
    private static byte[]? Key(ReadOnlySpan<byte> line, in SyslogMessage message, IngestOrigin origin)
    {
        if (message.Hostname.IsPresent && message.Hostname.Length > 0) return message.Hostname.Of(line).ToArray();
        return origin.Peer is { } peer ? Encoding.ASCII.GetBytes(peer.Address.ToString()) : null;
    }

    // Senders end lines with LF, CRLF or NUL; none of it is part of the message.
    private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> line)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\n' or (byte)'\r' or 0) end--;
        return line[..end];
    }
}
