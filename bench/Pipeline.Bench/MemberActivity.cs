using System.Diagnostics;
using System.Globalization;

namespace Pipeline.Bench;

/// <summary>
/// Watches one group member through its <c>/metrics</c> every 100 ms: when its count of written batches
/// (<c>consumer_batches_total</c>) last moved. <see cref="LongestStall"/> is the longest time the member was up
/// and wrote nothing — from its start to its first batch, or between two batches — which is what a rebalance
/// costs the member.
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

    public MemberActivity(int port, Stopwatch clock)
    {
        _url = $"http://127.0.0.1:{port}/metrics";
        _clock = clock;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Longest time up without writing, and when (seconds into the run) it ended.</summary>
    public (TimeSpan Length, TimeSpan EndedAt) LongestStall { get; private set; }

    /// <summary>The member's process was (re)started now: its wait for partitions counts from here.</summary>
    public void Started()
    {
        lock (_stop)
        {
            _up = true;
            _upSince = _clock.Elapsed;
            _lastMoved = _upSince;
            _lastBatches = -1;
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
                    if (seen > 0)
                    {
                        Note(now);
                        _lastMoved = now;
                    }
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
        if (!_up) return;
        var stall = now - _lastMoved;
        if (stall > LongestStall.Length) LongestStall = (stall, now);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
