using System.Net;
using Microsoft.AspNetCore.Http;
using Pipeline.Core.Ids;
using Pipeline.Edge.Markup;

namespace Pipeline.Edge.Sources.Http;

/// <summary>Where an HTTP, WebSocket or OTLP request came from, as its events' markup records it: the peer and the stream (headers less the redacted ones, tenant).</summary>
internal static class RequestOrigin
{
    public static StreamMarkup Stream(HttpContext context, HashSet<string> redact, string? tenant)
    {
        var headers = context.Request.Headers.Where(h => !redact.Contains(h.Key))
            .Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), h.Value.ToString())).ToList();
        return new StreamMarkup(Ulid.NewString(DateTimeOffset.UtcNow), headers, tenant);
    }

    public static IPEndPoint? Peer(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } ip ? new IPEndPoint(ip, context.Connection.RemotePort) : null;
}
