using System.Net;
using Microsoft.AspNetCore.Http;
using Pipeline.Edge.Markup;

namespace Pipeline.Edge.Sources.Http;

/// <summary>The markup of one HTTP listener, one per way events arrive on it, and its TLS when it is HTTPS.</summary>
internal sealed record HttpListenerMarkup(IPEndPoint Bind, ListenerMarkup Http, ListenerMarkup WebSocket, ListenerMarkup Otlp, ListenerTls? Tls = null);

/// <summary>
/// The edge's HTTP listeners (e.g. <c>http</c> on 8080 and <c>otlp</c> on 4318). Each serves every HTTP
/// endpoint; a request's events carry the markup (name, tags, tenant, buffer mode) of the listener it came in on,
/// found by the local port the connection was accepted on.
/// </summary>
internal sealed class HttpListenerSet(IReadOnlyList<HttpListenerMarkup> listeners)
{
    public IReadOnlyList<HttpListenerMarkup> Listeners { get; } = listeners;

    /// <summary>The listener a request came in on (HTTP listeners never share a port).</summary>
    public HttpListenerMarkup For(HttpContext context)
    {
        var port = context.Connection.LocalPort;
        foreach (var listener in Listeners)
            if (listener.Bind.Port == port) return listener;
        return Listeners[0];
    }
}
