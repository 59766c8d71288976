using Microsoft.Extensions.Logging;
using Pipeline.Edge.Publishing.Spool;

namespace Pipeline.Edge.Publishing;

/// <summary>
/// The spool's group commit (written and fsynced every <see cref="SpoolOptions.FsyncInterval"/>) and, at most once
/// per <see cref="CheckpointEvery"/>, a checkpoint of what Kafka acknowledged, so a restart re-sends little.
/// Runs on a thread of its own, so no listener ever waits for the disk.
/// </summary>
internal sealed class SpoolSyncer : IDisposable
{
    public static readonly TimeSpan CheckpointEvery = TimeSpan.FromSeconds(1);

    private readonly SpoolLog _spool;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private long _lastCheckpoint;

    public SpoolSyncer(SpoolLog spool, TimeSpan interval, TimeProvider time, ILogger log)
    {
        (_spool, _interval, _time, _log) = (spool, interval, time, log);
        _lastCheckpoint = time.GetTimestamp();
        _thread = new Thread(Run) { IsBackground = true, Name = "spool-sync" };
    }

    /// <summary>Checkpoints written by this syncer.</summary>
    public int Checkpoints { get; private set; }

    public void Start() => _thread.Start();

    public void Stop(TimeSpan timeout)
    {
        _stopping.Cancel();
        if (_thread.IsAlive) _thread.Join(timeout);
    }

    public void Dispose() => Stop(TimeSpan.FromSeconds(5));

    /// <summary>One tick: fsync what was appended; checkpoint if the last checkpoint is old enough.</summary>
    internal void Tick()
    {
        _spool.Sync();
        if (_time.GetElapsedTime(_lastCheckpoint) < CheckpointEvery) return;
        _spool.CheckpointAcknowledged();
        _lastCheckpoint = _time.GetTimestamp();
        Checkpoints++;
    }

    private void Run()
    {
        while (!_stopping.Token.WaitHandle.WaitOne(_interval))
        {
            try
            {
                Tick();
            }
            catch (Exception ex)
            {
                EdgeLog.SpoolSyncFailed(_log, ex);
            }
        }
    }
}
