namespace Pipeline.Edge.Publishing;

/// <summary>
/// Lets a request wait until Kafka acknowledged every event it handed over (HTTP <c>?ack=kafka</c>):
/// each accepted event is expected, each delivery signals, and <see cref="Seal"/> says no more will come.
/// </summary>
internal sealed class DeliveryWaiter
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _expected;
    private int _delivered;
    private int _failed;
    private int _sealed;

    public int Delivered => Volatile.Read(ref _delivered);
    public int Failed => Volatile.Read(ref _failed);

    public void Expect() => Interlocked.Increment(ref _expected);

    /// <summary>An expected event was not taken after all.</summary>
    public void Unexpect()
    {
        Interlocked.Decrement(ref _expected);
        CompleteIfDone();
    }

    public void Signal(bool delivered)
    {
        if (delivered) Interlocked.Increment(ref _delivered);
        else Interlocked.Increment(ref _failed);
        CompleteIfDone();
    }

    public void Seal()
    {
        Volatile.Write(ref _sealed, 1);
        CompleteIfDone();
    }

    /// <summary>True when everything expected was settled within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _done.Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void CompleteIfDone()
    {
        if (Volatile.Read(ref _sealed) == 1 && Volatile.Read(ref _delivered) + Volatile.Read(ref _failed) >= Volatile.Read(ref _expected))
            _done.TrySetResult();
    }
}
