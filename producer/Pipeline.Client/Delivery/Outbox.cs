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
/// The events between the application and the edge: a bounded queue the application adds to without ever
/// waiting (full: the caller drops and counts), and the events sent on a connection that broke before the edge
/// answered for them, which go out again first. Counts what is pending (queued, or sent and unanswered) so a
/// flush can wait for it to reach zero.
/// </summary>
internal sealed class Outbox(int capacity)
{
    private readonly Channel<EncodedEvent> _queue = Channel.CreateBounded<EncodedEvent>(new BoundedChannelOptions(capacity)
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
    public bool TryAdd(EncodedEvent item)
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
        return _queue.Reader.TryRead(out item);
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
        SendAgain(unanswered);
        var count = 0;
        while (TryTake(out var item))
        {
            Done(item);
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
