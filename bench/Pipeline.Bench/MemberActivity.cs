using System.Diagnostics;
using System.Globalization;

namespace Pipeline.Bench;

/// <summary>
/// Watches one group member through its <c>/metrics</c> every 100 ms: when its count of written batches
/// (<c>consumer_batches_total</c>) last moved. <see cref="LongestStall"/> is the longest time the member, once
/// writing, wrote nothing between two batches — what another member's restart cost it; <see cref="Rejoins"/>
/// are the times from each restart of its process to its first batch.
/// </summary>
internal sealed class MemberActivity : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly string _url;
    private readonly Stopwatch _clock;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private double _lastBatches = -1;
    private TimeSpan _lastMoved;
    private TimeSpan _upSince;
    private bool _up;
    private bool _waitingFirst;
    private bool _restarted;

    public MemberActivity(int port, Stopwatch clock)
    {
        _url = $"http://127.0.0.1:{port}/metrics";
        _clock = clock;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Longest time up and past its first batch without writing, and when (into the run) it ended.</summary>
    public (TimeSpan Length, TimeSpan EndedAt) LongestStall { get; private set; }

    /// <summary>For each restart: from the process's start to its first batch.</summary>
    public List<TimeSpan> Rejoins { get; } = [];

    /// <summary>
    /// The member is up and counted from now: at the start of the run (<paramref name="restarted"/> false), or its
    /// process was just started again, and its wait for partitions counts from here.
    /// </summary>
    public void Started(bool restarted)
    {
        lock (_stop)
        {
            _up = true;
            _upSince = _clock.Elapsed;
            _lastMoved = _upSince;
            _lastBatches = restarted ? -1 : _lastBatches;
            // Stalls count once it writes: at the start of the run the stream itself has to begin first.
            _waitingFirst = true;
            _restarted = restarted;
        }
    }

    /// <summary>The member's process is being stopped or was killed: time from here on is not its stall.</summary>
    public void Stopped()
    {
        lock (_stop)
        {
            Note(_clock.Elapsed);
            _up = false;
        }
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            double? batches = null;
            try
            {
                var text = await Http.GetStringAsync(_url, _stop.Token);
                batches = text.Split('\n').Where(l => l.StartsWith("consumer_batches_total", StringComparison.Ordinal))
                    .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or gone.
            }
            lock (_stop)
            {
                var now = _clock.Elapsed;
                if (_up && batches is { } seen && seen != _lastBatches)
                {
                    // A fresh process starts from zero: its first batch is the first count above zero.
                    if (seen > 0 && _waitingFirst)
                    {
                        if (_restarted) Rejoins.Add(now - _upSince);
                        _waitingFirst = false;
                    }
                    else if (seen > 0) Note(now);
                    if (seen > 0) _lastMoved = now;
                    _lastBatches = seen;
                }
            }
            try
            {
                await Task.Delay(100, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Note(TimeSpan now)
    {
        if (!_up || _waitingFirst) return;
        var stall = now - _lastMoved;
        if (stall > LongestStall.Length) LongestStall = (stall, now);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
