using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Metrics;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Sources.Syslog.Udp;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Syslog over UDP (RFC 5426): one datagram is one message. Receiving and processing are separate: receive
/// threads take datagrams from the socket in batches (recvmmsg) and pack them into slabs of a bounded
/// queue; processing threads parse, route and publish them. A burst faster than processing is absorbed by the
/// queue instead of the kernel's socket buffer; when the queue is full the receive threads wait and the
/// kernel drops what no longer fits its buffer, which is counted (from /proc) and exposed beside the ledger.
/// The receive threads never wait on Kafka. A processing thread pauses while the memory buffer is full and Kafka
/// acknowledging, as long as less than half the queue is taken (the rest absorbs what arrives meanwhile); beyond
/// that, or with Kafka silent, events overflow to the spool, and with the spool full too they are dropped and counted.
/// </summary>
internal sealed class UdpSyslogListener : IHostedService, IDisposable
{
    private const int SolSocket = 1;
    private const int SoRcvbufForce = 33;
    private const int SoRcvtimeo = 20;
    private const int DatagramsPerReceive = 256;
    private const int SlabBytes = 256 * 1024;
    // sizeof(struct sockaddr_in6), the longest sender address a UDP socket reports.
    private const int SocketAddressBytes = 28;
    // How often a receive thread blocked on an idle socket looks whether the listener is stopping.
    private static readonly TimeSpan StopCheck = TimeSpan.FromMilliseconds(100);

    private readonly ListenerMarkup _markup;
    private readonly ListenerOptions _options;
    private readonly SyslogIngest _ingest;
    private readonly ILogger _log;
    private readonly Socket _socket;
    private readonly DatagramQueue _queue;
    private readonly CounterCell _datagrams;
    private readonly CounterCell _oversize;
    private readonly List<Thread> _receivers = [];
    private readonly List<Thread> _processors = [];
    private volatile bool _stopping;

    public UdpSyslogListener(ListenerMarkup markup, ListenerOptions options, SyslogIngest ingest, EdgeMetrics metrics, ILogger log)
    {
        _markup = markup;
        _options = options;
        _ingest = ingest;
        _log = log;
        var bind = IPEndPoint.Parse(options.Bind);
        _socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        RequestReceiveBuffer(_socket, options.ReceiveBufferBytes);
        SetReceiveTimeout(_socket, StopCheck);
        _socket.Bind(bind);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        // A slab holds at least one datagram of the largest size.
        _queue = new DatagramQueue(options.QueueBytes, Math.Max(SlabBytes, DatagramSlab.RoomFor(SocketAddressBytes, DatagramSlot(options) - 1)));
        _datagrams = metrics.UdpDatagrams.For(("listener", markup.Name));
        _oversize = metrics.UdpTruncated.For(("listener", markup.Name));
        metrics.ObserveUdp(markup.Name, () => _queue.QueuedDatagrams, () => KernelUdpStats.SocketDrops(LocalEndPoint.Port), _socket.ReceiveBufferSize);
    }

    public IPEndPoint LocalEndPoint { get; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EdgeLog.ListeningSyslog(_log, "udp", LocalEndPoint.ToString(), _markup.Name);
        for (var i = 0; i < _options.ProcessLoops; i++) _processors.Add(StartThread(ProcessLoop, $"udp-{_markup.Name}-process-{i}"));
        for (var i = 0; i < _options.ReceiveLoops; i++) _receivers.Add(StartThread(ReceiveLoop, $"udp-{_markup.Name}-receive-{i}"));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Receivers notice within one receive timeout and hand over what they hold; what was received is
        // then processed before the processing threads end.
        _stopping = true;
        foreach (var thread in _receivers) thread.Join(TimeSpan.FromSeconds(5));
        _queue.Complete();
        foreach (var thread in _processors) thread.Join(TimeSpan.FromSeconds(30));
        _socket.Close();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _socket.Dispose();
        _queue.Dispose();
    }

    private static Thread StartThread(ThreadStart loop, string name)
    {
        var thread = new Thread(loop) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    private void ReceiveLoop()
    {
        using var receiver = new DatagramBatchReceiver(_socket, DatagramsPerReceive, DatagramSlot(_options));
        DatagramSlab? slab = null;
        while (!_stopping)
        {
            int count;
            try
            {
                count = receiver.Receive();
            }
            catch (SocketException ex)
            {
                EdgeLog.ReceiveLoopFailed(_log, ex, _markup.Name);
                Thread.Sleep(StopCheck);
                continue;
            }
            if (count == 0)
            {
                slab = HandOver(slab);
                continue;
            }
            _datagrams.Inc(count);
            for (var i = 0; i < count; i++)
            {
                var datagram = receiver.Datagram(i);
                var truncated = datagram.Length > _options.MaxMessageBytes || receiver.Truncated(i);
                if (truncated)
                {
                    _oversize.Inc();
                    datagram = datagram[..Math.Min(datagram.Length, _options.MaxMessageBytes)];
                }
                var sender = receiver.Sender(i);
                if (slab is not null && !slab.HasRoom(sender.Length, datagram.Length)) slab = HandOver(slab);
                // Every slab is taken: wait for the processing threads, and let the socket's buffer take the burst meanwhile.
                while (slab is null && !_stopping) slab = _queue.Rent(StopCheck);
                if (slab is null) return;
                slab.Append(sender, datagram, truncated);
            }
            // A batch smaller than the most one call takes means the socket is drained: hand over now rather
            // than wait for the slab to fill, so a quiet listener adds no delay — unless the processing threads are
            // still busy with earlier slabs, when filling this one further costs no delay and packs a burst densely
            // (a slab handed over per call would hold a few hundred datagrams of its 256 KiB).
            if (count < receiver.Capacity && _queue.WaitingSlabs < 2) slab = HandOver(slab);
        }
        HandOver(slab);
    }

    /// <summary>Room per datagram: one byte more than the limit, to tell an over-long datagram from one of exactly the limit (UDP carries at most 65,507).</summary>
    private static int DatagramSlot(ListenerOptions options) => Math.Min(options.MaxMessageBytes + 1, 65536);

    /// <summary>Queues a slab that holds datagrams, leaving the caller to rent the next; an empty one stays with the caller.</summary>
    private DatagramSlab? HandOver(DatagramSlab? slab)
    {
        if (slab is null || slab.Count == 0) return slab;
        _queue.Enqueue(slab);
        return null;
    }

    private void ProcessLoop()
    {
        var origin = new IngestOrigin(_markup, null, null);
        var address = new SocketAddress(_socket.AddressFamily);
        var lastSender = new byte[SocketAddressBytes];
        var lastSenderLength = 0;
        Func<bool> mayPause = () => _queue.LessThanHalfFull;
        while (_queue.TryTake(out var slab))
        {
            var reader = slab.Read();
            while (reader.MoveNext())
            {
                var sender = reader.Sender;
                if (!sender.SequenceEqual(lastSender.AsSpan(0, lastSenderLength)))
                {
                    // Most datagrams come from the same few senders: build an endpoint only when the sender changes.
                    sender.CopyTo(address.Buffer.Span);
                    address.Size = sender.Length;
                    origin.SetPeer((IPEndPoint)LocalEndPoint.Create(address));
                    sender.CopyTo(lastSender);
                    lastSenderLength = sender.Length;
                }
                try
                {
                    _ingest.AcceptOrDrop(reader.Datagram, origin, reader.Truncated, mayPause);
                }
                catch (Exception ex)
                {
                    EdgeLog.ReceiveLoopFailed(_log, ex, _markup.Name);
                }
            }
            _queue.Return(slab);
        }
    }

    /// <summary>SO_RCVTIMEO (struct timeval), which bounds how long recvmmsg blocks for its first datagram.</summary>
    private static void SetReceiveTimeout(Socket socket, TimeSpan timeout)
    {
        Span<byte> timeval = stackalloc byte[16];
        BitConverter.TryWriteBytes(timeval, (long)(timeout.Ticks / TimeSpan.TicksPerSecond));
        BitConverter.TryWriteBytes(timeval[8..], (long)(timeout.Ticks % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond));
        socket.SetRawSocketOption(SolSocket, SoRcvtimeo, timeval);
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
