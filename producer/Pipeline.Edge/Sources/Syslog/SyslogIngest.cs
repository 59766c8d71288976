using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Routing;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// What happens to one syslog line whatever transport brought it: parse → route → sample → mark up →
/// publish. Runs on the receiving thread; it never waits on Kafka.
/// </summary>
/// <remarks>
/// Size: a listener cuts a line longer than its <c>MaxMessageBytes</c> and says so (the <c>truncated</c> argument);
/// the envelope then carries <c>"truncated": true</c> and the line is Partial. An envelope larger than Kafka
/// takes (<see cref="EnvelopeSizeLimit"/>) is written again from a shorter prefix of the line, marked the same way,
/// so syslog senders, which cannot be told, lose the tail of an oversized line and never the line. HTTP callers,
/// which can be told, are refused instead (<see cref="Prepare"/>). Empty lines are counted as
/// <see cref="DropReason.Empty"/>, so every datagram and frame that arrived is in the ledger.
/// </remarks>
internal sealed class SyslogIngest(Router router, EdgePublisher publisher, LossLedger ledger, ITimeZoneResolver timeZones, EdgeOptions options,
    TimeProvider time)
{
    // Enough rewrites to converge even when escaping grows the envelope unevenly along the line.
    private const int MaxFitAttempts = 4;
    private readonly TimeSpan _futureDateWindow = options.TimeZones.FutureDateWindow;

    /// <summary>
    /// Takes one line (one datagram or frame) and publishes it; when every buffer is full the event is
    /// dropped and counted (<see cref="DropReason.BufferFull"/>). For transports that cannot push back (UDP).
    /// While <paramref name="mayPause"/> says so, the calling thread pauses instead (its own queue absorbing what
    /// arrives meanwhile) as long as the memory buffer is full and Kafka acknowledging: a moment's full buffer then
    /// costs a pause, not a detour of every later event through the disk spool.
    /// </summary>
    public PublishOutcome AcceptOrDrop(ReadOnlySpan<byte> line, IngestOrigin origin, bool truncated = false, Func<bool>? mayPause = null)
    {
        var pause = 1;
        var waits = mayPause is not null;
        while (true)
        {
            var prepared = PrepareInPlace(line, origin, truncated, refuseOversize: false, out _);
            if (prepared.Route is null) return PublishOutcome.Accepted;
            var outcome = Offer(prepared, senderWaits: waits);
            if (outcome != PublishOutcome.Full) return outcome;
            switch (waits ? publisher.RoomToOfferAgain(prepared.Buffer) : Room.None)
            {
                case Room.None:
                    prepared.Cell.ReceivedAndDropped(DropReason.BufferFull);
                    return outcome;
                case Room.AfterWaiting when mayPause!():
                    Thread.Sleep(pause);
                    pause = Math.Min(pause * 2, 10);
                    break;
                case Room.AfterWaiting:
                    waits = false; // the caller's queue is filling: overflow to the spool after all
                    break;
            }
        }
    }

    /// <summary>
    /// Takes one line from a sender that can wait (TCP) and publishes it. When there is no room,
    /// <paramref name="retained"/> is the event (with its own copy of the bytes) for the caller to offer again
    /// with <see cref="Offer(PreparedEvent, DeliveryWaiter?, bool)"/> (the sender still waits) once <see cref="WaitForRoomAsync"/> says there is room.
    /// </summary>
    public PublishOutcome Accept(ReadOnlySpan<byte> line, IngestOrigin origin, bool truncated, out PreparedEvent? retained)
    {
        retained = null;
        var prepared = PrepareInPlace(line, origin, truncated, refuseOversize: false, out _);
        if (prepared.Route is null) return PublishOutcome.Accepted;
        var outcome = Offer(prepared, senderWaits: true);
        if (outcome == PublishOutcome.Full) retained = prepared.ToOwned();
        return outcome;
    }

    /// <summary>
    /// Parses, routes, samples and marks up one line for a caller that can be told (HTTP). Null when there is nothing
    /// to publish: an event sampling left out, or (with <paramref name="error"/> set, counted as too_large) one whose
    /// envelope is larger than Kafka takes.
    /// </summary>
    public PreparedEvent? Prepare(ReadOnlySpan<byte> line, IngestOrigin origin, out string? error)
    {
        var prepared = PrepareInPlace(line, origin, truncated: false, refuseOversize: true, out error);
        return prepared.Route is null ? null : prepared.ToOwned();
    }

    /// <summary>The largest envelope Kafka takes.</summary>
    public EnvelopeSizeLimit Limit => publisher.Limit;

    /// <summary>Counts a line refused before parsing because it is longer than <paramref name="limit"/>, and says why.</summary>
    public string RefuseTooLarge(IngestOrigin origin, int length, int limit)
    {
        ledger.Cell(origin.Listener.Name, LossLedger.Unrouted).ReceivedAndDropped(DropReason.TooLarge);
        return $"too_large: the line is {length} bytes, more than Edge:Http:MaxEventBytes ({limit}); it was not accepted";
    }

    /// <summary>As <see cref="Prepare"/>, over borrowed bytes; the route is null when there is nothing to publish.</summary>
    private BorrowedEvent PrepareInPlace(ReadOnlySpan<byte> line, IngestOrigin origin, bool truncated, bool refuseOversize, out string? error)
    {
        error = null;
        line = TrimEnd(line);
        if (line.IsEmpty || line.IndexOfAnyExcept(" \t\r\n\0"u8) < 0)
        {
            ledger.Cell(origin.Listener.Name, LossLedger.Unrouted).ReceivedAndDropped(DropReason.Empty);
            return default;
        }

        var receivedAt = time.GetUtcNow();
        var context = new SyslogParseContext(receivedAt, origin.Peer?.Address, timeZones) { FutureDateWindow = _futureDateWindow, Truncated = truncated };
        var message = SyslogParser.Parse(line, context);
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
        if (!route.Keep())
        {
            cell.Parsed(message.Status != ParseStatus.Ok);
            cell.ReceivedAndDropped(DropReason.SampledOut);
            return default;
        }

        var header = new EnvelopeHeader(receivedAt, EventKinds.Log, origin, route.SampleRate);
        var envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(header, line, message);
        var hasKey = TryKey(line, message, origin, out var key);
        var limit = publisher.Limit;
        for (var attempt = 0; !limit.Fits(hasKey ? key.Length : 0, envelope.Length); attempt++)
        {
            if (refuseOversize || attempt == MaxFitAttempts)
            {
                cell.Parsed(message.Status != ParseStatus.Ok);
                cell.ReceivedAndDropped(DropReason.TooLarge);
                error = limit.TooLargeError(envelope.Length);
                return default;
            }

            // The envelope grows with the line (message and raw both carry it): cut the line in proportion, with room to spare.
            var keep = (int)((long)line.Length * limit.MaxEnvelopeBytes(hasKey ? key.Length : 0) / envelope.Length * 9 / 10);
            line = Utf8Prefix(line, keep);
            message = SyslogParser.Parse(line, context with { Truncated = true });
            envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(header, line, message);
            hasKey = TryKey(line, message, origin, out key);
        }

        cell.Parsed(message.Status != ParseStatus.Ok);
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

    /// <summary>The first <paramref name="length"/> bytes at most, not cutting a UTF-8 character in two.</summary>
    private static ReadOnlySpan<byte> Utf8Prefix(ReadOnlySpan<byte> line, int length)
    {
        length = Math.Clamp(length, 0, line.Length);
        // Continuation bytes are 10xxxxxx; stepping back over at most three of them reaches a character's start.
        for (var back = 0; back < 3 && length > 0 && length < line.Length && (line[length] & 0xC0) == 0x80; back++) length--;
        return line[..length];
    }

    // Senders end lines with LF, CRLF or NUL; none of it is part of the message.
    private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> line)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\n' or (byte)'\r' or 0) end--;
        return line[..end];
    }
}
