namespace Pipeline.Ops.Status;

/// <summary>
/// Reads every source on a schedule and keeps the latest <see cref="StatusSnapshot"/>. Processes are read
/// together every interval, each bounded by its own timeout; Kafka is read on a thread of its own (its
/// client blocks), so a broker that does not answer leaves its last reading marked stale instead of
/// stopping the processes' numbers. A source that is down shows as down; the rest stays live.
/// </summary>
internal sealed class StatusSampler : IAsyncDisposable
{
    private readonly StatusSettings _settings;
    private readonly TimeProvider _time;
    private readonly ProcessProbe _processes;
    private readonly KafkaProbe _kafka;
    private readonly Func<int> _tailsOpen;
    private readonly Dictionary<string, string> _groupOfProcess = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastSeen = new(StringComparer.Ordinal);
    private readonly List<string> _groups;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _kafkaGate = new();
    private (KafkaReading Now, KafkaReading? Before) _kafkaReadings;
    private Readings? _previous;
    private StatusSnapshot _latest;
    private Task? _processLoop;
    private Thread? _kafkaLoop;

    public StatusSampler(StatusSettings settings, HttpClient http, TimeProvider time, Func<int>? tailsOpen = null)
    {
        _settings = settings;
        _time = time;
        _processes = new ProcessProbe(http, time);
        _kafka = new KafkaProbe(settings.Kafka, settings.Topics, settings.Postgres, settings.Archive, time);
        _tailsOpen = tailsOpen ?? (() => 0);
        _groups = [.. settings.Groups];
        foreach (var target in settings.Targets.Where(t => t.Group is not null)) Learn(target.Name, target.Group!);
        _kafkaReadings = (KafkaReading.Down(time.GetUtcNow(), "not read yet"), null);
        _latest = StatusSnapshot.Nothing(time.GetUtcNow());
    }

    public StatusSnapshot Latest => Volatile.Read(ref _latest);

    public StatusHistory History { get; } = new();

    /// <summary>Reads everything once, Kafka included, and returns the new snapshot (what <c>ops top --once</c> and the first paint use).</summary>
    public async Task<StatusSnapshot> SampleAsync(CancellationToken cancellationToken)
    {
        await Task.Run(ReadKafka, cancellationToken);
        return await ReadProcessesAsync(cancellationToken);
    }

    /// <summary>Starts the two reading loops; <see cref="Latest"/> changes every interval from then on.</summary>
    public void Start()
    {
        _kafkaLoop = new Thread(KafkaLoop) { IsBackground = true, Name = "status-kafka" };
        _kafkaLoop.Start();
        _processLoop = ProcessLoopAsync(_stop.Token);
    }

    private async Task ProcessLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_settings.Interval, _time);
        try
        {
            do
            {
                try
                {
                    await ReadProcessesAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A reading that fails in an unforeseen way must not stop the page: the next interval tries again.
                    await Console.Error.WriteLineAsync($"status: reading the processes failed: {ex.Message}");
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void KafkaLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            var started = _time.GetTimestamp();
            try
            {
                ReadKafka();
            }
            catch (Exception ex)
            {
                // Kafka's reading says what went wrong and the loop goes on; the processes' numbers never depended on it.
                lock (_gate) _kafkaReadings = (KafkaReading.Down(_time.GetUtcNow(), ex.Message), null);
            }
            var rest = _settings.Interval - _time.GetElapsedTime(started);
            if (rest > TimeSpan.Zero) _stop.Token.WaitHandle.WaitOne(rest);
        }
    }

    private void ReadKafka()
    {
        string[] groups;
        lock (_gate) groups = [.. _groups];
        lock (_kafkaGate)
        {
            var reading = _kafka.Read(groups);
            lock (_gate) _kafkaReadings = (reading, _kafkaReadings.Now.Up ? _kafkaReadings.Now : null);
        }
    }

    private async Task<StatusSnapshot> ReadProcessesAsync(CancellationToken cancellationToken)
    {
        var readings = await Task.WhenAll(_settings.Targets.Select(t => _processes.ReadAsync(t, cancellationToken)));
        lock (_gate)
        {
            foreach (var reading in readings.Where(r => r.Up))
            {
                _lastSeen[reading.Target.Name] = reading.At;
                // A worker says which group it serves in its metrics; once known it is remembered, so the group shows as down when the worker is.
                if (reading.Target.Role == ProcessTarget.WorkerRole
                    && reading.Metrics!.LabelValues("consumer_partitions_assigned", "group") is [var group])
                    Learn(reading.Target.Name, group);
            }
            var now = new Readings(_time.GetUtcNow(), readings, _kafkaReadings.Now, _kafkaReadings.Before);
            var snapshot = SnapshotBuilder.Build(_previous, now, [.. _groups], new Dictionary<string, string>(_groupOfProcess), new Dictionary<string, DateTimeOffset>(_lastSeen),
                _settings.Kafka.BootstrapServers, _tailsOpen());
            _previous = now;
            Volatile.Write(ref _latest, snapshot);
            History.Add(snapshot);
            return snapshot;
        }
    }

    private void Learn(string process, string group)
    {
        _groupOfProcess[process] = group;
        if (!_groups.Contains(group)) _groups.Add(group);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_processLoop is not null) await _processLoop;
        _kafkaLoop?.Join(TimeSpan.FromSeconds(20));
        _kafka.Dispose();
        _stop.Dispose();
    }
}
