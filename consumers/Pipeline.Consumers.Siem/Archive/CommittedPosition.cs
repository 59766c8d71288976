namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// How far readers may read, and a task that completes when that moves. Kept apart from <see cref="ArchiveWriter"/>:
/// the writer is single-threaded, but readers on other threads look at this while it writes.
/// </summary>
internal sealed class CommittedPosition
{
    private volatile ArchivePosition _position = new(1, 0, 0);
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ArchivePosition Position => _position;

    /// <summary>Completes at the next <see cref="Publish"/> (take it before looking at <see cref="Position"/>).</summary>
    public Task Next => Volatile.Read(ref _signal).Task;

    public void Publish(ArchivePosition position)
    {
        _position = position;
        var previous = Interlocked.Exchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }
}
