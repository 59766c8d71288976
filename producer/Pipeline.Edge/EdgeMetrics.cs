using System.Diagnostics.Metrics;
using Pipeline.Core.Metrics;
using Pipeline.Edge.Publishing;
using Pipeline.Edge.Publishing.Spool;

namespace Pipeline.Edge;

/// <summary>
/// Every instrument of the edge, typed in one place (meter <c>Pipeline.Edge</c>). Hot paths count in cells
/// (<see cref="CounterCell"/>: one interlocked add) that observable instruments read when metrics are
/// collected; figures kept by a component (the ledger, the spool, the kernel's counters) are read from it then.
/// Instrument names are the Prometheus names as exported.
/// </summary>
internal sealed class EdgeMetrics
{
    public const string MeterName = "Pipeline.Edge";

    /// <summary>One acknowledgement in this many is timed: few enough that timing costs nothing per event, many enough for a distribution.</summary>
    public const int AckSampleEvery = 16;

    /// <summary>The <c>reason</c> label of a connection refused during the TLS handshake (no certificate from the CAs, too slow, not TLS).</summary>
    public const string TlsRefusal = "tls";

    private readonly Meter _meter;

    public EdgeMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        TcpConnections = new CounterFamily(_meter, "edge_tcp_connections_total", "Connections accepted.");
        TcpRefused = new CounterFamily(_meter, "edge_tcp_connections_refused_total", "Connections refused, by reason: limit (the listener's), address_limit (one source address's), tls (handshake failed or too slow).");
        TcpFrames = new CounterFamily(_meter, "edge_tcp_frames_total", "Syslog frames read.");
        TcpTruncated = new CounterFamily(_meter, "edge_tcp_frames_truncated_total", "Frames longer than MaxMessageBytes (truncated to it).");
        TcpMalformed = new CounterFamily(_meter, "edge_tcp_frames_malformed_total", "Octet counts that were not a number (the line was kept, LF-framed).");
        TcpIdleClosed = new CounterFamily(_meter, "edge_tcp_idle_closed_total", "Connections closed after IdleTimeout without data.");
        TcpBackpressure = new CounterFamily(_meter, "edge_tcp_backpressure_waits_total", "Times a connection stopped reading because the buffers were full.");
        TcpOpen = new GaugeFamily(_meter, "edge_tcp_connections_open", "Connections open now.");

        HttpRefused = new CounterFamily(_meter, "edge_http_connections_refused_total", "HTTPS connections refused during the TLS handshake (reason tls): no client certificate from the CAs, too slow, not TLS.");
        HttpRateLimited = new CounterFamily(_meter, "edge_http_rate_limited_total", "Ingest requests answered 429, by reason: token (one token's limit) or address (one source address's).");
        HttpBackpressure = new CounterFamily(_meter, "edge_http_backpressure_waits_total", "Times an ingest request waited for room because the buffers were full while Kafka acknowledged.");

        UdpDatagrams = new CounterFamily(_meter, "edge_udp_datagrams_total", "UDP datagrams received.");
        UdpTruncated = new CounterFamily(_meter, "edge_udp_truncated_total", "UDP datagrams longer than MaxMessageBytes (truncated).");
        UdpQueued = new GaugeFamily(_meter, "edge_udp_queued_datagrams", "UDP datagrams received and not yet processed (the listener's queue).");
        UdpSocketDrops = new CounterFamily(_meter, "edge_udp_socket_drops_total", "Datagrams the kernel dropped on this socket (receive buffer full), from /proc/net/udp.");
        UdpReceiveBuffer = new GaugeFamily(_meter, "edge_udp_receive_buffer_bytes", "Kernel receive buffer granted to the socket.", "By");
        UdpKernelRcvbufErrors = new CounterFamily(_meter, "edge_udp_kernel_rcvbuf_errors_total", "Host-wide UDP RcvbufErrors from /proc/net/snmp.");

        SpoolOverflow = new CounterFamily(_meter, "edge_spool_overflow_total", "Memory-mode events written to the spool instead of the producer, by why.");
        ReceiveToAck = _meter.CreateHistogram("edge_receive_to_ack_seconds", "s",
            $"Time from an event's receipt at the edge to Kafka's acknowledgement (every event of a quiet moment, one in {AckSampleEvery} under load).",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.Freshness });
    }

    public CounterFamily TcpConnections { get; }
    public CounterFamily TcpRefused { get; }
    public CounterFamily TcpFrames { get; }
    public CounterFamily TcpTruncated { get; }
    public CounterFamily TcpMalformed { get; }
    public CounterFamily TcpIdleClosed { get; }
    public CounterFamily TcpBackpressure { get; }
    public GaugeFamily TcpOpen { get; }

    /// <summary>Labels: <c>listener</c>, <c>reason</c> (tls).</summary>
    public CounterFamily HttpRefused { get; }

    /// <summary>Labels: <c>listener</c>, <c>reason</c> (token, address).</summary>
    public CounterFamily HttpRateLimited { get; }
    public CounterFamily HttpBackpressure { get; }

    public CounterFamily UdpDatagrams { get; }
    public CounterFamily UdpTruncated { get; }
    public GaugeFamily UdpQueued { get; }
    public CounterFamily UdpSocketDrops { get; }
    public GaugeFamily UdpReceiveBuffer { get; }
    public CounterFamily UdpKernelRcvbufErrors { get; }

    /// <summary>Labels: <c>reason</c> (spool_not_empty, memory_full, producer_queue_full).</summary>
    public CounterFamily SpoolOverflow { get; }

    /// <summary>Seconds from receipt to Kafka's acknowledgement, sampled (see <see cref="AckSampleEvery"/>).</summary>
    public Histogram<double> ReceiveToAck { get; }

    /// <summary>
    /// The loss ledger's instruments. All of them read one snapshot per collection (<see cref="SnapshotRound{T}"/>),
    /// so received + recovered = published + pending + dropped holds in every scrape, per listener and route.
    /// </summary>
    public void ObserveLedger(Func<IReadOnlyList<LedgerReading>> read)
    {
        var round = new SnapshotRound<IReadOnlyList<LedgerReading>>(read);
        Counter("edge_events_received_total", "Events received, by listener and route.", round, s => s.Received);
        Counter("edge_events_parse_failed_total", "Events whose line did not parse fully (still shipped raw).", round, s => s.ParseFailed);
        Counter("edge_events_recovered_total", "Events found in the spool at start-up.", round, s => s.Recovered);
        Counter("edge_events_published_total", "Events Kafka acknowledged.", round, s => s.Published);
        Counter("edge_events_spooled_total", "Events written to the disk spool.", round, s => s.SpooledTotal);
        var pending = round.Join();
        _meter.CreateObservableUpDownCounter("edge_events_pending", () => pending().SelectMany(r => new[]
        {
            new Measurement<long>(r.Snapshot.PendingMemory, r.Tags.Append(new("buffer", "memory"))),
            new Measurement<long>(r.Snapshot.PendingSpool, r.Tags.Append(new("buffer", "spool"))),
        }), description: "Events accepted but not yet acknowledged by Kafka, by buffer.");
        var dropped = round.Join();
        _meter.CreateObservableCounter("edge_events_dropped_total", () => dropped().SelectMany(r =>
            Enum.GetValues<DropReason>().Select(reason =>
                new Measurement<long>(r.Snapshot.Dropped[(int)reason], r.Tags.Append(new("reason", LossLedger.ReasonLabel(reason)))))),
            description: "Events that will never reach Kafka, by reason.");
    }

    /// <summary>The disk spool's and the memory buffer's figures, read at each collection.</summary>
    public void ObserveBuffers(SpoolLog spool, Func<long> memoryEvents)
    {
        _meter.CreateObservableGauge("edge_spool_bytes", () => spool.Bytes, "By", "Bytes in the disk spool.");
        _meter.CreateObservableGauge("edge_spool_max_bytes", () => spool.MaxBytes, "By", "Capacity of the disk spool.");
        _meter.CreateObservableGauge("edge_spool_records", () => spool.Unacknowledged, description: "Records in the spool not yet acknowledged by Kafka.");
        _meter.CreateObservableCounter("edge_spool_appended_records_total", () => spool.Appended, description: "Records appended to the spool by this run.");
        _meter.CreateObservableCounter("edge_spool_synced_records_total", () => spool.Synced, description: "Records appended by this run and fsynced.");
        _meter.CreateObservableCounter("edge_spool_recovered_records_total", () => spool.Recovery.Records, description: "Intact records found in the spool at start-up.");
        _meter.CreateObservableCounter("edge_spool_damaged_bytes_total", () => spool.Recovery.DamagedBytes, "By", "Damaged bytes skipped at start-up (torn tail, corruption).");
        _meter.CreateObservableCounter("edge_spool_damaged_regions_total", () => spool.Recovery.DamagedRegions, description: "Damaged regions skipped at start-up.");
        _meter.CreateObservableGauge("edge_memory_buffer_events", memoryEvents, description: "Events handed to the producer directly and not yet acknowledged.");
    }

    /// <summary>A UDP listener's queue and the kernel's figures for its socket, read at each collection.</summary>
    public void ObserveUdp(string listener, Func<long> queued, Func<long> socketDrops, int receiveBufferBytes)
    {
        (string, string) label = ("listener", listener);
        UdpQueued.Track(() => queued(), label);
        UdpSocketDrops.Track(socketDrops, label);
        UdpReceiveBuffer.Track(() => receiveBufferBytes, label);
        UdpKernelRcvbufErrors.Track(Sources.Syslog.KernelUdpStats.RcvbufErrors);
    }

    private void Counter(string name, string description, SnapshotRound<IReadOnlyList<LedgerReading>> round, Func<LedgerSnapshot, long> value)
    {
        var reading = round.Join();
        _meter.CreateObservableCounter(name, () => reading().Select(r => new Measurement<long>(value(r.Snapshot), r.Tags)), description: description);
    }
}

/// <summary>One ledger cell read at one moment, with its labels.</summary>
internal sealed record LedgerReading(KeyValuePair<string, object?>[] Tags, LedgerSnapshot Snapshot);
