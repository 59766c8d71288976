using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Metrics;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Syslog over UDP (RFC 5426): one datagram is one message. Several threads block in recvfrom on one
/// socket with a large kernel buffer and process each datagram in place, so a datagram is never copied
/// and nothing here waits on Kafka. When every buffer is full the datagram is dropped and counted; the
/// kernel's own drops (socket buffer overflow) are read from /proc and exposed beside them.
/// </summary>
internal sealed class UdpSyslogListener : IHostedService, IDisposable
{
    private const int SolSocket = 1;
    private const int SoRcvbufForce = 33;

    private readonly ListenerMarkup _markup;
    private readonly ListenerOptions _options;
    private readonly SyslogIngest _ingest;
    private readonly ILogger _log;
    private readonly Socket _socket;
    private readonly Counter _datagrams;
    private readonly Counter _oversize;
    private readonly List<Thread> _threads = [];
    private volatile bool _stopping;

    public UdpSyslogListener(ListenerMarkup markup, ListenerOptions options, SyslogIngest ingest, MetricsRegistry metrics, ILogger log)
    {
        _markup = markup;
        _options = options;
        _ingest = ingest;
        _log = log;
        var bind = IPEndPoint.Parse(options.Bind);
        _socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        RequestReceiveBuffer(_socket, options.ReceiveBufferBytes);
        _socket.Bind(bind);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _datagrams = metrics.Counter("edge_udp_datagrams_total", "UDP datagrams received.", ("listener", markup.Name));
        _oversize = metrics.Counter("edge_udp_truncated_total", "UDP datagrams longer than MaxMessageBytes (truncated).", ("listener", markup.Name));
        var kernelDrops = metrics.Gauge("edge_udp_socket_drops_total", "Datagrams the kernel dropped on this socket (receive buffer full), from /proc/net/udp.", ("listener", markup.Name));
        var rcvbufErrors = metrics.Gauge("edge_udp_kernel_rcvbuf_errors_total", "Host-wide UDP RcvbufErrors from /proc/net/snmp.");
        metrics.Gauge("edge_udp_receive_buffer_bytes", "Kernel receive buffer granted to the socket.", ("listener", markup.Name)).Set(_socket.ReceiveBufferSize);
        metrics.BeforeScrape(() =>
        {
            kernelDrops.Set(KernelUdpStats.SocketDrops(LocalEndPoint.Port));
            rcvbufErrors.Set(KernelUdpStats.RcvbufErrors());
        });
    }

    public IPEndPoint LocalEndPoint { get; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EdgeLog.ListeningSyslog(_log, "udp", LocalEndPoint.ToString(), _markup.Name);
        for (var i = 0; i < _options.ReceiveLoops; i++)
        {
            var thread = new Thread(ReceiveLoop) { IsBackground = true, Name = $"udp-{_markup.Name}-{i}" };
            _threads.Add(thread);
            thread.Start();
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        // Closing the socket wakes every thread blocked in recvfrom.
        _socket.Close();
        foreach (var thread in _threads) thread.Join(TimeSpan.FromSeconds(5));
        return Task.CompletedTask;
    }

    public void Dispose() => _socket.Dispose();

    private void ReceiveLoop()
    {
        // One byte more than the limit tells an over-long datagram from one of exactly the limit.
        var buffer = new byte[_options.MaxMessageBytes + 1];
        var address = new SocketAddress(_socket.AddressFamily);
        var origin = new IngestOrigin(_markup, null, null);
        var lastAddress = new SocketAddress(_socket.AddressFamily);
        while (!_stopping)
        {
            int received;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, address);
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                continue;
            }
            _datagrams.Inc();
            if (!address.Equals(lastAddress))
            {
                // Most datagrams come from the same few senders: build an endpoint only when the sender changes.
                origin.SetPeer((IPEndPoint)LocalEndPoint.Create(address));
                address.Buffer.Span.CopyTo(lastAddress.Buffer.Span);
                lastAddress.Size = address.Size;
            }
            if (received > _options.MaxMessageBytes)
            {
                _oversize.Inc();
                received = _options.MaxMessageBytes;
            }
            try
            {
                _ingest.AcceptOrDrop(buffer.AsSpan(0, received), origin);
            }
            catch (Exception ex)
            {
                EdgeLog.ReceiveLoopFailed(_log, ex, _markup.Name);
            }
        }
    }

    private static void RequestReceiveBuffer(Socket socket, int bytes)
    {
        try
        {
            // As root this ignores net.core.rmem_max; the kernel doubles the value for its bookkeeping.
            socket.SetRawSocketOption(SolSocket, SoRcvbufForce, BitConverter.GetBytes(bytes));
        }
        catch (SocketException)
        {
            socket.ReceiveBufferSize = bytes;
        }
    }
}

/// <summary>The kernel's UDP drop counters.</summary>
internal static class KernelUdpStats
{
    /// <summary>Host-wide <c>Udp: RcvbufErrors</c> from /proc/net/snmp (0 where unavailable).</summary>
    public static long RcvbufErrors()
    {
        try
        {
            var lines = File.ReadAllLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal)).ToArray();
            if (lines.Length < 2) return 0;
            var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var index = Array.IndexOf(names, "RcvbufErrors");
            return index > 0 && index < values.Length ? long.Parse(values[index], System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The <c>drops</c> column of the sockets bound to <paramref name="port"/> in /proc/net/udp and udp6.</summary>
    public static long SocketDrops(int port)
    {
        long drops = 0;
        var hexPort = ":" + port.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var file in new[] { "/proc/net/udp", "/proc/net/udp6" })
        {
            try
            {
                foreach (var line in File.ReadLines(file).Skip(1))
                {
                    var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (fields.Length > 12 && fields[1].EndsWith(hexPort, StringComparison.Ordinal))
                        drops += long.Parse(fields[^1], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
            }
        }
        return drops;
    }
}
