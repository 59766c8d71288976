using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
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
/// closed; connections beyond the limit are refused.
/// </summary>
internal sealed class TcpSyslogListener : BackgroundService
{
    private readonly ListenerMarkup _markup;
    private readonly ListenerOptions _options;
    private readonly SyslogIngest _ingest;
    private readonly ILogger _log;
    private readonly X509Certificate2? _certificate;
    private readonly X509Certificate2Collection? _clientCa;
    private readonly Socket _socket;
    private readonly CounterCell _accepted;
    private readonly CounterCell _refused;
    private readonly CounterCell _frames;
    private readonly CounterCell _truncated;
    private readonly CounterCell _malformed;
    private readonly CounterCell _idleClosed;
    private readonly CounterCell _backpressure;
    private readonly GaugeCell _open;
    private int _connections;

    public TcpSyslogListener(ListenerMarkup markup, ListenerOptions options, SyslogIngest ingest, EdgeMetrics metrics, ILogger log)
    {
        _markup = markup;
        _options = options;
        _ingest = ingest;
        _log = log;
        if (options.Protocol == ListenerProtocol.Tls)
        {
            _certificate = X509Certificate2.CreateFromPemFile(options.CertificateFile!, options.KeyFile);
            if (options.ClientCaFile is { } ca)
            {
                _clientCa = [];
                _clientCa.ImportFromPemFile(ca);
            }
        }
        var bind = IPEndPoint.Parse(options.Bind);
        _socket = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(bind);
        _socket.Listen(512);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        (string, string) listener = ("listener", markup.Name);
        _accepted = metrics.TcpConnections.For(listener);
        _refused = metrics.TcpRefused.For(listener);
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
        EdgeLog.ListeningStream(_log, _certificate is null ? "tcp" : "tls", LocalEndPoint.ToString(), _markup.Name, "octet-counted or LF framing");
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
            if (Interlocked.Increment(ref _connections) > _options.MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                _refused.Inc();
                EdgeLog.TooManyConnections(_log, _markup.Name, client.RemoteEndPoint?.ToString() ?? "?", _options.MaxConnections);
                client.Dispose();
                continue;
            }
            _accepted.Inc();
            _open.Set(Volatile.Read(ref _connections));
            connections.RemoveAll(t => t.IsCompleted);
            connections.Add(Task.Run(() => ServeAsync(client, stoppingToken), CancellationToken.None));
        }
        // Let open connections finish the frame in hand: they stop at the next read.
        await Task.WhenAny(Task.WhenAll(connections), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
    }

    private async Task ServeAsync(Socket client, CancellationToken stoppingToken)
    {
        var peer = (IPEndPoint)client.RemoteEndPoint!;
        client.NoDelay = true;
        Stream stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            if (_certificate is not null)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false, ValidateClient);
                stream = tls;
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                handshake.CancelAfter(TimeSpan.FromSeconds(15));
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ClientCertificateRequired = _clientCa is not null,
                    EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
                }, handshake.Token);
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
            _open.Set(Interlocked.Decrement(ref _connections));
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

    private bool ValidateClient(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_clientCa is null) return true;
        if (certificate is null) return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_clientCa);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return custom.Build(new X509Certificate2(certificate));
    }
}
