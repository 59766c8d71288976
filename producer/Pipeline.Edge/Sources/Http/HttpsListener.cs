using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pipeline.Edge.Sources.Http;

/// <summary>
/// HTTPS on an HTTP listener, from the listener's PEM files (<see cref="ListenerTls"/>, the same settings as syslog over
/// TLS): Kestrel's TLS with TLS 1.2 and 1.3, the listener's handshake timeout, and, with <c>ClientCaFile</c>, a client
/// certificate from those CAs required. Every connection refused during the handshake is counted and logged.
/// </summary>
internal static class HttpsListener
{
    private static readonly object HandshakeDone = new();

    public static void UseListenerTls(this ListenOptions listen, ListenerTls tls, string listener)
    {
        var services = listen.ApplicationServices;
        var refused = services.GetRequiredService<EdgeMetrics>().HttpRefused.For(("listener", listener), ("reason", EdgeMetrics.TlsRefusal));
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HttpsListener).FullName!);
        // Kestrel ends a connection whose handshake failed without telling the application: a mark set once the
        // handshake is done tells the two apart when the connection ends.
        listen.Use(next => async connection =>
        {
            await next(connection);
            if (connection.Items.ContainsKey(HandshakeDone)) return;
            refused.Inc();
            EdgeLog.TlsRefused(log, listener, connection.RemoteEndPoint?.ToString() ?? "?",
                tls.RequiresClientCertificate ? "not completed (no client certificate from the CAs, too slow, or not TLS)" : "not completed (too slow, or not TLS)");
        });
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = tls.Certificate,
            SslProtocols = ListenerTls.Protocols,
            HandshakeTimeout = tls.HandshakeTimeout,
            ClientCertificateMode = tls.RequiresClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
            // Called only for a presented certificate; Kestrel refuses a missing one itself when one is required.
            ClientCertificateValidation = (certificate, _, _) => tls.AcceptsClient(certificate),
        });
        listen.Use(next => connection =>
        {
            connection.Items[HandshakeDone] = true;
            return next(connection);
        });
    }
}
