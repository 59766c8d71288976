using System.Runtime.InteropServices;
using System.Text.Json;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.Edge.Sources.Http;

/// <summary>
/// The events of one <c>POST /v1/events</c> or <c>/v1/syslog</c> body: splits it (NDJSON, a JSON array, syslog lines), offers
/// each event and tallies its fate in the reply. Each line is judged alone, so one bad line does not cost the
/// good ones. It stops at the first event the buffers cannot take and returns true with <see cref="IngestResponse.ResumeFromLine"/>
/// naming its line; called again with the same response, it goes on from that line (the request waited for room) — or the
/// reply tells the sender from which line to resend.
/// </summary>
/// <remarks>Events are offered as from a sender that can wait: while Kafka only acknowledges slower than they come, the request
/// is held back (see <see cref="EdgePublisher.WaitToOfferAgainAsync"/>) instead of sent through the disk spool.</remarks>
internal static class BodyEventIngest
{
    public static bool IngestJson(ReadOnlyMemory<byte> body, IngestOrigin origin, JsonEventIngest ingest, int limit, DeliveryWaiter? waiter, IngestResponse response)
    {
        var from = StartLine(response);
        var span = body.Span;
        var first = span.IndexOfAnyExcept(" \t\r\n"u8);
        if (first >= 0 && span[first] == (byte)'[')
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException ex)
            {
                (response.Errors ??= []).Add(new LineError(1, "not a JSON array: " + ex.Message));
                return false;
            }
            using (document)
            {
                var element = 0;
                foreach (var item in document.RootElement.EnumerateArray())
                {
                    if (++element < from) continue;
                    var size = JsonMarshal.GetRawUtf8Value(item).Length;
                    var taken = size > limit
                        ? Take(JsonIngestOutcome.TooLarge, ingest.RefuseTooLarge(origin, size, limit), element, response)
                        : Take(ingest.Publish(item, origin, waiter, out var error), error, element, response);
                    if (!taken) return true;
                }
            }
            return false;
        }

        foreach (var (line, text) in Lines(body, from))
        {
            JsonIngestOutcome outcome;
            string? error;
            JsonDocument document;
            if (text.Length > limit)
            {
                Take(JsonIngestOutcome.TooLarge, ingest.RefuseTooLarge(origin, text.Length, limit), line, response);
                continue;
            }
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException ex)
            {
                (response.Errors ??= []).Add(new LineError(line, "not JSON: " + ex.Message));
                continue;
            }
            using (document) outcome = ingest.Publish(document.RootElement, origin, waiter, out error);
            if (!Take(outcome, error, line, response)) return true;
        }
        return false;
    }

    /// <summary>Counts one event's fate; false when the buffers are full and the request must stop here.</summary>
    private static bool Take(JsonIngestOutcome outcome, string? error, int line, IngestResponse response)
    {
        switch (outcome)
        {
            case JsonIngestOutcome.Invalid:
                (response.Errors ??= []).Add(new LineError(line, error!));
                return true;
            case JsonIngestOutcome.TooLarge:
                response.TooLarge++;
                (response.Errors ??= []).Add(new LineError(line, error!));
                return true;
            case JsonIngestOutcome.SampledOut:
                response.SampledOut++;
                return true;
            case JsonIngestOutcome.Accepted:
                response.Accepted++;
                return true;
            case JsonIngestOutcome.Shed:
                response.Shed++;
                return true;
            default:
                response.ResumeFromLine = line;
                return false;
        }
    }

    public static bool IngestSyslog(ReadOnlyMemory<byte> body, IngestOrigin origin, SyslogIngest ingest, int limit, DeliveryWaiter? waiter, IngestResponse response)
    {
        foreach (var (line, text) in Lines(body, StartLine(response)))
        {
            if (text.Length > limit)
            {
                Take(JsonIngestOutcome.TooLarge, ingest.RefuseTooLarge(origin, text.Length, limit), line, response);
                continue;
            }
            var prepared = ingest.Prepare(text.Span, origin, out var error);
            if (prepared is null)
            {
                if (error is null) response.SampledOut++;
                else Take(JsonIngestOutcome.TooLarge, error, line, response);
                continue;
            }
            switch (ingest.Offer(prepared, waiter, senderWaits: true))
            {
                case PublishOutcome.Accepted: response.Accepted++; break;
                case PublishOutcome.Shed: response.Shed++; break;
                case PublishOutcome.TooLarge:
                    Take(JsonIngestOutcome.TooLarge, ingest.Limit.TooLargeError(prepared.Envelope.Length), line, response);
                    break;
                default:
                    response.ResumeFromLine = line;
                    return true;
            }
        }
        return false;
    }

    /// <summary>The line to go on from: where the last call stopped, else the first. The response no longer names it until it stops again.</summary>
    private static int StartLine(IngestResponse response)
    {
        var from = response.ResumeFromLine ?? 1;
        response.ResumeFromLine = null;
        return from;
    }

    /// <summary>The non-blank lines of a body from line <paramref name="from"/>, with their 1-based numbers (blank lines count, so numbers match an editor's).</summary>
    private static IEnumerable<(int Line, ReadOnlyMemory<byte> Text)> Lines(ReadOnlyMemory<byte> body, int from)
    {
        var line = 0;
        var rest = body;
        while (!rest.IsEmpty)
        {
            line++;
            var end = rest.Span.IndexOf((byte)'\n');
            var text = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (line >= from && text.Span.IndexOfAnyExcept(" \t\r"u8) >= 0) yield return (line, text);
        }
    }
}
