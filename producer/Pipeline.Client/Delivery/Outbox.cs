using System.Buffers;
using System.Threading.Channels;

namespace Pipeline.Client.Delivery;

/// <summary>One event as JSON in a pooled buffer, from the moment it is queued until the edge answers for it or it is dropped.</summary>
internal readonly struct EncodedEvent(byte[] buffer, int length)
{
    public ReadOnlyMemory<byte> Json => buffer.AsMemory(0, length);

    public int Length => length;

    public void Release() => ArrayPool<byte>.Shared.Return(buffer);
}

/// <summary>
/// An event queued before it was written to JSON (a log entry): the delivery task writes it when it takes it, so the
/// application's thread only hands it over.
/// </summary>
internal abstract class DeferredEvent
{
    /// <summary>Writes the event (and gives the item back to its pool); null when it was dropped, counted by the caller of <see cref="Outbox"/>.</summary>
    public abstract EncodedEvent? Encode(out DropReason? dropped);

    /// <summary>Gives the item back to its pool unwritten (the client is stopping).</summary>
    public abstract void Discard();
}

/// <summary>What the queue holds: an event already in JSON, or one to write when it is taken.</summary>
internal readonly record struct QueuedEvent(EncodedEvent Encoded, DeferredEvent? Deferred);

/// <summary>
/// The events between the application and the edge: a bounded queue the application adds to without ever
/// waiting (full: the caller drops and counts), and the events sent on a connection that broke before the edge
/// answered for them, which go out again first. Counts what is pending (queued, or sent and unanswered) so a
/// flush can wait for it to reach zero. Log entries are written to JSON as they are taken, on the delivery task.
/// </summary>
internal sealed class Outbox(int capacity, ClientMetrics metrics)
{
    private readonly Channel<QueuedEvent> _queue = Channel.CreateBounded<QueuedEvent>(new BoundedChannelOptions(capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
        SingleWriter = false,
    });

    // Only the delivery task touches it while it runs; Drain runs after the delivery task has stopped.
    private readonly LinkedList<EncodedEvent> _resend = new();
    private readonly List<TaskCompletionSource> _emptyWaiters = [];
    private long _pending;

    /// <summary>Events queued, or sent and not yet answered for.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Adds an event unless the queue is full; never waits.</summary>
    public bool TryAdd(EncodedEvent item) => TryAdd(new QueuedEvent(item, null));

    /// <summary>Adds an event to write later unless the queue is full; never waits.</summary>
    public bool TryAdd(DeferredEvent item) => TryAdd(new QueuedEvent(default, item));

    private bool TryAdd(QueuedEvent item)
    {
        // Counted before it is visible to the delivery task, so a flush never sees zero while it is on its way.
        Interlocked.Increment(ref _pending);
        if (_queue.Writer.TryWrite(item)) return true;
        Finished();
        return false;
    }

    /// <summary>The next event to send: one to send again first, else the oldest queued.</summary>
    public bool TryTake(out EncodedEvent item)
    {
        if (_resend.First is { } first)
        {
            item = first.Value;
            _resend.RemoveFirst();
            return true;
        }
        while (_queue.Reader.TryRead(out var queued))
        {
            if (queued.Deferred is null)
            {
                item = queued.Encoded;
                return true;
            }
            if (queued.Deferred.Encode(out var dropped) is { } encoded)
            {
                item = encoded;
                return true;
            }
            metrics.Dropped(dropped ?? DropReason.Unwritable);
            Finished();
        }
        item = default;
        return false;
    }

    public ValueTask<bool> WaitToTakeAsync(CancellationToken cancellationToken) =>
        _resend.Count > 0 ? ValueTask.FromResult(true) : _queue.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Events the edge never answered for, oldest first: they go out again, before anything else.</summary>
    public void SendAgain(IReadOnlyList<EncodedEvent> unanswered)
    {
        for (var i = unanswered.Count - 1; i >= 0; i--) _resend.AddFirst(unanswered[i]);
    }

    /// <summary>The edge answered for the event, or it was dropped: its buffer goes back to the pool.</summary>
    public void Done(EncodedEvent item)
    {
        item.Release();
        Finished();
    }

    /// <summary>Waits until nothing is pending; false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitEmptyAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_emptyWaiters)
        {
            if (Pending == 0) return true;
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _emptyWaiters.Add(waiter);
        }
        try
        {
            await waiter.Task.WaitAsync(timeout, time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            lock (_emptyWaiters) _emptyWaiters.Remove(waiter);
        }
    }

    /// <summary>Takes everything still pending out (after the delivery task stopped); returns how many there were.</summary>
    public int Drain(IReadOnlyList<EncodedEvent> unanswered)
    {
        var count = 0;
        foreach (var item in unanswered.Concat(_resend))
        {
            Done(item);
            count++;
        }
        _resend.Clear();
        while (_queue.Reader.TryRead(out var queued))
        {
            if (queued.Deferred is { } deferred) deferred.Discard();
            else queued.Encoded.Release();
            Finished();
            count++;
        }
        return count;
    }

    private void Finished()
    {
        if (Interlocked.Decrement(ref _pending) != 0) return;
        lock (_emptyWaiters)
        {
            if (Pending != 0) return;
            foreach (var waiter in _emptyWaiters) waiter.TrySetResult();
        }
    }
}
