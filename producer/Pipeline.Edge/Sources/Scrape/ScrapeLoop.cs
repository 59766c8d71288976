using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>
/// Scrapes one target on its own schedule until stopped: fetch → parse → remember increases → publish →
/// report. Each target has its own loop, so one that hangs, floods or sends garbage delays only itself.
/// <para>
/// Schedule: every interval, at a fixed phase within it taken from a hash of the target and the edge's
/// name — the jitter that keeps many targets from firing at once, stable across restarts, and different
/// on two edges scraping the same target. A scrape that overruns skips the slots it missed rather than
/// firing twice.
/// </para>
/// </summary>
internal sealed class ScrapeLoop : IAsyncDisposable
{
    private readonly ScrapeFetcher _fetcher;
    private readonly ScrapeIngest _ingest;
    private readonly TargetHealth _health;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly TimeSpan _offset;
    private readonly SeriesMemory _memory = new();
    private readonly ParsedExposition _parsed = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;
    private bool? _wasUp;

    public ScrapeLoop(ScrapeTarget target, ScrapeFetcher fetcher, ScrapeIngest ingest, TargetHealth health, TimeProvider time, ILogger log, string edgeName)
    {
        Target = target;
        _fetcher = fetcher;
        _ingest = ingest;
        _health = health;
        _time = time;
        _log = log;
        _offset = Offset(target, edgeName);
    }

    public ScrapeTarget Target { get; }

    public void Start() => _running = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>The target's phase within its interval.</summary>
    public static TimeSpan Offset(ScrapeTarget target, string edgeName) =>
        TimeSpan.FromTicks((long)(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(edgeName + "\n" + target.Key)) % (ulong)target.Interval.Ticks));

    /// <summary>From <paramref name="now"/> to the first slot at or after it: the instants whose phase in the interval is the offset.</summary>
    public static TimeSpan FirstDelay(DateTimeOffset now, TimeSpan interval, TimeSpan offset)
    {
        var phase = ((now.UtcTicks - offset.Ticks) % interval.Ticks + interval.Ticks) % interval.Ticks;
        return phase == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(interval.Ticks - phase);
    }

    /// <summary>From <paramref name="now"/> to the next slot after the scrape that started at <paramref name="started"/>, skipping slots already past.</summary>
    public static TimeSpan NextDelay(DateTimeOffset started, DateTimeOffset now, TimeSpan interval)
    {
        var next = started + interval;
        if (next < now) next += TimeSpan.FromTicks(((now - next).Ticks / interval.Ticks + 1) * interval.Ticks);
        return next - now;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(FirstDelay(_time.GetUtcNow(), Target.Interval, _offset), _time, cancellationToken);
            while (true)
            {
                var started = _time.GetUtcNow();
                try
                {
                    await ScrapeOnceAsync(started, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    ScrapeLog.LoopFailed(_log, ex, Target.ToString());
                }
                await Task.Delay(NextDelay(started, _time.GetUtcNow(), Target.Interval), _time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One scrape, start to end; its outcome is in the target's health and the published report.</summary>
    public async Task ScrapeOnceAsync(DateTimeOffset started, CancellationToken cancellationToken)
    {
        using var body = new ScrapeBody();
        var fetched = await _fetcher.FetchAsync(Target, body, cancellationToken);
        if (!fetched.Succeeded)
        {
            Failed(fetched.Failure!.Value, fetched.Detail, started, body.Length);
            return;
        }
        var error = ExpositionParser.Parse(body.Span, fetched.Format, Target.SampleLimit, _parsed);
        if (error is not null)
        {
            Failed(error.SampleLimit ? ScrapeFailure.SampleLimit : ScrapeFailure.Parse, error.ToString(), started, body.Length);
            return;
        }
        _memory.Apply(body.Span, _parsed.Samples);
        var published = await PublishAsync(body, started, cancellationToken);
        if (published < _parsed.SampleCount)
        {
            _ingest.DropRest(Target, _parsed.SampleCount - published);
            Failed(ScrapeFailure.BufferFull, $"buffers stayed full: {_parsed.SampleCount - published} of {_parsed.SampleCount} samples dropped", started, body.Length);
            return;
        }
        var duration = _time.GetUtcNow() - started;
        _health.Succeeded(started, duration, _parsed.SampleCount, body.Length);
        _ingest.PublishReport(Target, started, up: true, duration, _parsed.SampleCount);
        if (_wasUp == false) ScrapeLog.TargetUp(_log, Target.ToString(), Target.Url.AbsoluteUri, _parsed.SampleCount);
        _wasUp = true;
    }

    /// <summary>Publishes every sample, waiting for room when buffers are full — but never past the next scrape's slot.</summary>
    private async Task<int> PublishAsync(ScrapeBody body, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var next = _ingest.PublishFrom(Target, body.Span, _parsed, started, 0);
        if (next == _parsed.SampleCount) return next;
        var left = started + Target.Interval - _time.GetUtcNow();
        using var deadline = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1), _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        while (next < _parsed.SampleCount)
        {
            try
            {
                await _ingest.WaitForRoomAsync(Target, either.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                break;
            }
            next = _ingest.PublishFrom(Target, body.Span, _parsed, started, next);
        }
        return next;
    }

    private void Failed(ScrapeFailure failure, string detail, DateTimeOffset started, long bytes)
    {
        var duration = _time.GetUtcNow() - started;
        _health.Failed(failure, duration, bytes);
        _ingest.PublishReport(Target, started, up: false, duration, samples: 0);
        var reason = ScrapeMetrics.ReasonLabel(failure);
        if (_wasUp != false) ScrapeLog.TargetDown(_log, Target.ToString(), Target.Url.AbsoluteUri, reason, detail);
        else ScrapeLog.StillDown(_log, Target.ToString(), reason, detail);
        _wasUp = false;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _parsed.Dispose();
        _stop.Dispose();
    }
}
