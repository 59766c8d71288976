namespace Pipeline.Client.Delivery;

/// <summary>One way of delivering events (WebSocket stream, HTTP batches), one connection at a time.</summary>
internal interface ITransport : IDisposable
{
    /// <summary>
    /// Connects and delivers from the outbox until the connection breaks (it then returns or throws); resets
    /// <paramref name="backoff"/> once the edge answered.
    /// </summary>
    Task RunAsync(Backoff backoff, CancellationToken cancellationToken);

    /// <summary>Events sent on the connection that ended and never answered for, oldest first; the transport forgets them.</summary>
    IReadOnlyList<EncodedEvent> TakeUnanswered();
}

/// <summary>
/// The background task that delivers events: runs the transport, and when a connection ends puts back what the
/// edge had not answered for (to go out again first, with the same ids) and waits out a backoff before the next.
/// </summary>
internal sealed class Shipper
{
    private readonly ITransport _transport;
    private readonly Outbox _outbox;
    private readonly ClientMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Backoff _backoff;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _running;

    public Shipper(ITransport transport, PipelineClientOptions options, Outbox outbox, ClientMetrics metrics)
    {
        _transport = transport;
        _outbox = outbox;
        _metrics = metrics;
        _time = options.TimeProvider;
        _backoff = new Backoff(options.RetryMinDelay, options.RetryMaxDelay);
        _running = Task.Run(RunAsync);
    }

    /// <summary>Stops delivering; returns how many events were still pending (their buffers are released).</summary>
    public async Task<int> StopAsync()
    {
        await _stopping.CancelAsync();
        await _running;
        _transport.Dispose();
        return _outbox.Drain(_transport.TakeUnanswered());
    }

    private async Task RunAsync()
    {
        var stop = _stopping.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _transport.RunAsync(_backoff, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // The edge is down, restarting, or refused the connection: counted, and tried again after the backoff.
                _metrics.ConnectionFailed();
            }
            var unanswered = _transport.TakeUnanswered();
            if (unanswered.Count > 0)
            {
                _outbox.SendAgain(unanswered);
                _metrics.Resent(unanswered.Count);
            }
            try
            {
                await Task.Delay(_backoff.Next(), _time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
