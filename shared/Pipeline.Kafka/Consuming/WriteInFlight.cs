namespace Pipeline.Kafka.Consuming;

/// <summary>What became of the write in flight when the poll thread looked.</summary>
internal enum WriteState
{
    /// <summary>No write is in flight.</summary>
    None,
    /// <summary>Still being written; it stays in flight.</summary>
    Running,
    /// <summary>Written: its records are durable. No longer in flight.</summary>
    Written,
    /// <summary>The sink failed: its records must be written again. No longer in flight.</summary>
    Failed,
}

/// <summary>
/// The one write the sink may have in flight: handed to the thread pool so that the poll thread reads and
/// batches the next records while the store works. The sink is never called by two threads at once: the poll
/// thread looks here (and waits, up to a bound, on the runtime's clock) before it calls the sink itself.
/// </summary>
internal sealed class WriteInFlight(TimeProvider time)
{
    private SinkBatch? _batch;
    private Task? _task;

    public bool Active => _task is not null;

    public bool IsCompleted => _task is { IsCompleted: true };

    /// <summary>Records of the write in flight (0 when none), for the in-hand gauge.</summary>
    public int Records => _batch?.Records.Count ?? 0;

    public SinkBatch? Batch => _batch;

    /// <summary>
    /// Starts <paramref name="write"/> on the thread pool. Not cancelled on shutdown: a drain waits for it (up to
    /// its timeout) rather than have it stopped halfway and written again.
    /// </summary>
    public void Start(SinkBatch batch, Func<SinkBatch, Task> write)
    {
        if (_task is not null) throw new InvalidOperationException("a write is already in flight");
        _batch = batch;
        _task = Task.Run(() => write(batch), CancellationToken.None);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: until it ends) and says what
    /// became of it; once Written or Failed, <paramref name="batch"/> is the batch and nothing is in flight any more.
    /// </summary>
    public WriteState Finish(TimeSpan timeout, out SinkBatch? batch)
    {
        batch = null;
        if (_task is not { } task) return WriteState.None;
        if (!Wait(task, timeout)) return WriteState.Running;
        batch = _batch;
        _task = null;
        _batch = null;
        return task.IsCompletedSuccessfully ? WriteState.Written : WriteState.Failed;
    }

    /// <summary>
    /// Lets go of the write whose outcome no longer matters here (lost partitions, a drain out of time), after
    /// waiting up to <paramref name="timeout"/> so the sink is not called again while it still runs, where possible.
    /// </summary>
    public SinkBatch? Abandon(TimeSpan timeout)
    {
        if (_task is not { } task) return null;
        var batch = _batch;
        _task = null;
        _batch = null;
        // Observed, so that a failure after this point is not reported as unobserved.
        if (!Wait(task, timeout)) _ = task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        return batch;
    }

    private bool Wait(Task task, TimeSpan timeout)
    {
        if (task.IsCompleted) return true;
        try
        {
            if (timeout == Timeout.InfiniteTimeSpan) task.Wait();
            else if (timeout > TimeSpan.Zero) task.WaitAsync(timeout, time).Wait();
        }
        catch (AggregateException)
        {
            // The write's own failure, or the timeout: told apart by the task's state.
        }
        return task.IsCompleted;
    }
}
