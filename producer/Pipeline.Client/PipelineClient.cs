using System.Reflection;
using Microsoft.Extensions.Logging;
using Pipeline.Client.Delivery;
using Pipeline.Client.Encoding;
using Pipeline.Client.Logging;
using static Pipeline.Client.Encoding.EventWriter;

namespace Pipeline.Client;

/// <summary>
/// Sends events, metrics and (through <see cref="PipelineLoggerProvider"/>) logs to the pipeline's edge. Every
/// call returns at once: the event goes into a bounded queue (events and metrics written to JSON first, on the
/// caller's thread; log entries as they were handed over, written by the delivery task) that a background task
/// delivers in batches, resending after a reconnect only what the edge had not answered for.
/// Nothing here blocks or throws into the application; when the queue is full, events are dropped and counted
/// (<see cref="Stats"/>, the <c>pipeline.client.events.dropped</c> instrument, <see cref="PipelineClientOptions.OnDropped"/>).
/// </summary>
public sealed class PipelineClient : IDisposable, IAsyncDisposable
{
    private readonly PipelineClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ClientIdentity _identity;
    private readonly LogEncoding _logEncoding;
    private readonly Outbox _outbox;
    private readonly ClientMetrics _metrics;
    private readonly Shipper _shipper;
    private int _disposed;

    /// <summary>Starts a client; its delivery task runs until it is disposed. Invalid options throw here, never later.</summary>
    public PipelineClient(PipelineClientOptions? options = null)
    {
        _options = options ?? new PipelineClientOptions();
        _options.Validate();
        _time = _options.TimeProvider;
        _identity = new ClientIdentity(_options.App ?? Assembly.GetEntryAssembly()?.GetName().Name ?? "dotnet", _options.Host ?? Environment.MachineName);
        _logEncoding = new LogEncoding(_identity, _options.MaxEventBytes);
        _metrics = new ClientMetrics(() => _outbox!.Pending, _options.OnDropped);
        _outbox = new Outbox(_options.QueueCapacity, _metrics);
        ITransport transport = _options.Transport == PipelineTransport.WebSocket
            ? new WebSocketTransport(_options, _outbox, _metrics)
            : new HttpTransport(_options, _outbox, _metrics);
        _shipper = new Shipper(transport, _options, _outbox, _metrics);
    }

    /// <summary>Counts since the client started: queued, stored, resent, dropped by reason.</summary>
    public PipelineClientStats Stats => _metrics.Snapshot();

    /// <summary>Events queued, or sent and not yet answered for by the edge.</summary>
    public long Pending => _outbox.Pending;

    /// <summary>A new event of <paramref name="dataset"/> (default <see cref="PipelineClientOptions.Dataset"/>); its duration runs from now until it is sent.</summary>
    public PipelineEvent NewEvent(string? dataset = null) => new(this, dataset ?? _options.Dataset, _time.GetTimestamp());

    /// <summary>A counter (the seed's <c>metrics.counter</c>): <c>metric_type: counter</c>.</summary>
    public void Counter(string name, double value = 1) => Metric(name, value, "counter");

    /// <summary>A timer (the seed's <c>metrics.timer</c>): <c>metric_type: timer</c>, the value in seconds.</summary>
    public void Timer(string name, TimeSpan duration) => Metric(name, duration.TotalSeconds, "timer");

    /// <summary>Times a block: <c>using (client.Time("convert")) { … }</c> sends a timer with its duration when disposed.</summary>
    public MetricTimer Time(string name) => new(this, name, _time.GetTimestamp());

    /// <summary>Waits until every event queued so far was answered for by the edge; false when <paramref name="timeout"/> passed first. Never throws.</summary>
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _outbox.WaitEmptyAsync(timeout, _time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Flushes for at most <see cref="PipelineClientOptions.ShutdownTimeout"/>, then stops; what is left is dropped and counted.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await FlushAsync(_options.ShutdownTimeout);
        var left = await _shipper.StopAsync();
        _metrics.Dropped(DropReason.Shutdown, left);
        _metrics.Dispose();
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose()
    {
        // Off the caller's context, so a synchronous Dispose cannot deadlock on it.
        Task.Run(async () => await DisposeAsync()).Wait();
    }

    internal void Log<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter, IExternalScopeProvider? scopes)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            _metrics.Dropped(DropReason.Shutdown);
            return;
        }
        try
        {
            // Handed over as it is (scopes as they are now): the delivery task writes it to JSON.
            var entry = DeferredLog<TState>.Rent(_logEncoding, category, level, eventId, state, exception, formatter, _time.GetUtcNow());
            scopes?.ForEachScope(static (scope, list) => list.Add(scope), entry.Scopes);
            if (_outbox.TryAdd(entry))
            {
                _metrics.Queued();
                return;
            }
            entry.Discard();
            _metrics.Dropped(DropReason.QueueFull);
        }
        catch (Exception)
        {
            _metrics.Dropped(DropReason.Unwritable);
        }
    }

    internal void Send(PipelineEvent e)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            _metrics.Dropped(DropReason.Shutdown);
            return;
        }
        try
        {
            var rate = e.SampleRate ?? (_options.DatasetSampleRates.TryGetValue(e.Dataset, out var r) ? r : _options.SampleRate);
            // Kept at random, 1 in N: a periodic workload cannot line up with the sampling as it could with a counter.
            if (rate > 1 && Random.Shared.Next(rate) != 0)
            {
                _metrics.SampledOut();
                return;
            }
            var writer = ForCurrentThread;
            var w = writer.Begin("event", _time.GetUtcNow(), _identity);
            w.WriteString(Names.Dataset, e.Dataset);
            w.WriteNumber(Names.SampleRate, Math.Max(rate, 1));
            w.WriteNumber(Names.DurationMs, _time.GetElapsedTime(e.Started).TotalMilliseconds);
            e.WriteFields(writer);
            Offer(writer);
        }
        catch (Exception)
        {
            _metrics.Dropped(DropReason.Unwritable);
        }
    }

    internal void TimerSince(string name, long started) => Timer(name, _time.GetElapsedTime(started));

    private void Metric(string name, double value, string type)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            _metrics.Dropped(DropReason.Shutdown);
            return;
        }
        try
        {
            var writer = ForCurrentThread;
            var w = writer.Begin("metric", _time.GetUtcNow(), _identity);
            w.WriteString(Names.MetricName, name);
            w.WriteNumber(Names.MetricValue, value);
            w.WriteString(Names.MetricType, type);
            Offer(writer);
        }
        catch (Exception)
        {
            _metrics.Dropped(DropReason.Unwritable);
        }
    }

    private void Offer(EventWriter writer)
    {
        if (writer.End(_options.MaxEventBytes) is not { } encoded)
        {
            _metrics.Dropped(DropReason.TooLarge);
            return;
        }
        if (_outbox.TryAdd(encoded))
        {
            _metrics.Queued();
            return;
        }
        encoded.Release();
        _metrics.Dropped(DropReason.QueueFull);
    }
}

/// <summary>Times a block and sends a timer when disposed (see <see cref="PipelineClient.Time"/>).</summary>
public readonly struct MetricTimer : IDisposable
{
    private readonly PipelineClient? _client;
    private readonly string _name;
    private readonly long _started;

    internal MetricTimer(PipelineClient client, string name, long started) => (_client, _name, _started) = (client, name, started);

    /// <summary>Sends the timer.</summary>
    public void Dispose() => _client?.TimerSince(_name, _started);
}
