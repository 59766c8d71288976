using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Metrics;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Sources.Syslog.Framing;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Syslog over TCP (RFC 6587: octet counting or LF framing, detected per connection) and over TLS
/// (RFC 5425, when a certificate is configured). Each connection is read through a pipe and framed in
/// place; when the buffers are full the connection simply stops reading until there is room, so the
/// sender feels backpressure through TCP itself and nothing it sent is dropped. Idle connections are
/// closed; connections beyond the listener's limit or its limit per source address are refused, and so are TLS
/// clients that do not complete the handshake in time or, with mutual TLS, present no certificate from the configured CAs.
/// </summary>
internal sealed class TcpSyslogListener : BackgroundService
{
    private readonly ListenerMarkup _markup;
    private readonly ListenerOptions _options;
    private readonly SyslogIngest _ingest;
    private readonly ILogger _log;
    private readonly ListenerTls? _tls;
    private readonly ConnectionLimits _limits;
    private readonly Socket _socket;
    private readonly CounterCell _accepted;
    private readonly CounterCell _refusedFull;
    private readonly CounterCell _refusedAddress;
    private readonly CounterCell _refusedTls;
    private readonly CounterCell _frames;
    private readonly CounterCell _truncated;
    private readonly CounterCell _malformed;
    private readonly CounterCell _idleClosed;
    private readonly CounterCell _backpressure;
    private readonly GaugeCell _open;

    public TcpSyslogListener(ListenerMarkup markup, ListenerOptions options, SyslogIngest ingest, EdgeMetrics metrics, ILogger log)
    {
        _markup = markup;
        _options = options;
        _ingest = ingest;
        _log = log;
        if (options.Protocol == ListenerProtocol.Tls) _tls = ListenerTls.For(options);
        _limits = new ConnectionLimits(options.MaxConnections, options.MaxConnectionsPerAddress);
        var bind = IPEndPoint.Parse(options.Bind);
        _socket = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(bind);
        _socket.Listen(512);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        (string, string) listener = ("listener", markup.Name);
        _accepted = metrics.TcpConnections.For(listener);
        _refusedFull = metrics.TcpRefused.For(listener, ("reason", ConnectionLimits.ListenerFull));
        _refusedAddress = metrics.TcpRefused.For(listener, ("reason", ConnectionLimits.AddressFull));
        _refusedTls = metrics.TcpRefused.For(listener, ("reason", EdgeMetrics.TlsRefusal));
        _frames = metrics.TcpFrames.For(listener);
        _truncated = metrics.TcpTruncated.For(listener);
        _malformed = metrics.TcpMalformed.For(listener);
        _idleClosed = metrics.TcpIdleClosed.For(listener);
        _backpressure = metrics.TcpBackpressure.For(listener);
        _open = metrics.TcpOpen.For(listener);
    }

    public IPEndPoint LocalEndPoint { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        EdgeLog.ListeningStream(_log, _tls is null ? "tcp" : "tls", LocalEndPoint.ToString(), _markup.Name, "octet-counted or LF framing");
        using var _ = stoppingToken.Register(() => _socket.Close());
        var connections = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException)
            {
                continue;
            }
            var peer = (IPEndPoint)client.RemoteEndPoint!;
            if (_limits.TryAdmit(peer.Address) is { } refusal)
            {
                var full = refusal == ConnectionLimits.ListenerFull;
                (full ? _refusedFull : _refusedAddress).Inc();
                if (full) EdgeLog.TooManyConnections(_log, _markup.Name, peer.ToString(), _options.MaxConnections);
                else EdgeLog.TooManyConnectionsFromAddress(_log, _markup.Name, peer.ToString(), _options.MaxConnectionsPerAddress);
                client.Dispose();
                continue;
            }
            _accepted.Inc();
            _open.Set(_limits.Open);
            connections.RemoveAll(t => t.IsCompleted);
            connections.Add(Task.Run(() => ServeAsync(client, peer, stoppingToken), CancellationToken.None));
        }
        // Let open connections finish the frame in hand: they stop at the next read.
        await Task.WhenAny(Task.WhenAll(connections), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
    }

    private async Task ServeAsync(Socket client, IPEndPoint peer, CancellationToken stoppingToken)
    {
        client.NoDelay = true;
        Stream stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            if (_tls is not null)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, _, _) => _tls.AcceptsClient(certificate));
                stream = tls;
                if (!await HandshakeAsync(tls, peer, stoppingToken)) return;
            }
            await ReadFramesAsync(stream, new IngestOrigin(_markup, peer, null), stoppingToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            if (!stoppingToken.IsCancellationRequested) EdgeLog.ConnectionFailed(_log, _markup.Name, peer.ToString(), ex.Message);
        }
        finally
        {
            await stream.DisposeAsync();
            _limits.Release(peer.Address);
            _open.Set(_limits.Open);
        }
    }

    /// <summary>The server side of the TLS handshake; false (counted and logged) when the client did not complete it in time or was refused.</summary>
    private async Task<bool> HandshakeAsync(SslStream tls, IPEndPoint peer, CancellationToken stoppingToken)
    {
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        handshake.CancelAfter(_tls!.HandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _tls.Certificate,
                ClientCertificateRequired = _tls.RequiresClientCertificate,
                EnabledSslProtocols = ListenerTls.Protocols,
            }, handshake.Token);
            return true;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested
            && ex is System.Security.Authentication.AuthenticationException or IOException or SocketException or OperationCanceledException)
        {
            _refusedTls.Inc();
            EdgeLog.TlsRefused(_log, _markup.Name, peer.ToString(), ex is OperationCanceledException ? $"no handshake within {_tls.HandshakeTimeout}" : ex.Message);
            return false;
        }
    }

    private async Task ReadFramesAsync(Stream stream, IngestOrigin origin, CancellationToken stoppingToken)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024));
        var framer = new SyslogFrameReader(_options.MaxMessageBytes);
        var malformedReported = 0L;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        try
        {
            while (true)
            {
                idle.CancelAfter(_options.IdleTimeout);
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    _idleClosed.Inc();
                    return;
                }
                var buffer = result.Buffer;
                try
                {
                    while (framer.TryReadFrame(ref buffer, out var frame, out var truncated))
                        await IngestAsync(frame, truncated, origin, stoppingToken);
                    if (result.IsCompleted)
                    {
                        if (framer.TryReadFinalFrame(ref buffer, out var last, out var truncated))
                            await IngestAsync(last, truncated, origin, stoppingToken);
                        return;
                    }
                }
                finally
                {
                    _malformed.Inc(framer.MalformedFrames - malformedReported);
                    malformedReported = framer.MalformedFrames;
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
                // A connection only stops between reads: a frame read is a frame ingested.
                if (stoppingToken.IsCancellationRequested) return;
                if (!idle.TryReset()) return;
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private async ValueTask IngestAsync(ReadOnlySequence<byte> frame, bool truncated, IngestOrigin origin, CancellationToken stoppingToken)
    {
        _frames.Inc();
        if (truncated) _truncated.Inc();
        PreparedEvent? retained;
        if (frame.IsSingleSegment)
        {
            if (_ingest.Accept(frame.FirstSpan, origin, truncated, out retained) != PublishOutcome.Full) return;
        }
        else
        {
            var copy = ArrayPool<byte>.Shared.Rent((int)frame.Length);
            frame.CopyTo(copy);
            var outcome = _ingest.Accept(copy.AsSpan(0, (int)frame.Length), origin, truncated, out retained);
            ArrayPool<byte>.Shared.Return(copy);
            if (outcome != PublishOutcome.Full) return;
        }
        // Full: stop reading this connection until there is room (backpressure), then offer the same event again.
        var prepared = retained!;
        do
        {
            _backpressure.Inc();
            await _ingest.WaitForRoomAsync(prepared, stoppingToken);
        }
        while (_ingest.Offer(prepared, senderWaits: true) == PublishOutcome.Full);
    }
}
