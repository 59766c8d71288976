using System.Text;
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
    /// Takes one line (one datagram or frame). An empty line is not an event and is ignored. When every
    /// buffer is full, <paramref name="dropWhenFull"/> says whether the event is dropped and counted (UDP)
    /// or left to the caller to offer again (TCP pushes back).
    /// </summary>
    public PublishOutcome Accept(ReadOnlySpan<byte> line, IngestOrigin origin, bool dropWhenFull)
    {
        line = TrimEnd(line);
        if (line.IsEmpty) return PublishOutcome.Accepted;

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
            return PublishOutcome.Accepted;
        }

        var envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(receivedAt, EventKinds.Log, origin, route.SampleRate), line, message);
        var outcome = publisher.Publish(route, cell, Key(line, message, origin), envelope.ToArray());
        if (outcome == PublishOutcome.Full && dropWhenFull) cell.ReceivedAndDropped(DropReason.BufferFull);
        return outcome;
    }

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
