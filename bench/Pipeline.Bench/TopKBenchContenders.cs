using System.Runtime.InteropServices;
using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Bench;

/// <summary>What <see cref="TopKBench"/> measures: one way of counting the stream, fed record by record.</summary>
internal interface ITopKContender
{
    void Apply(long offset, ReadOnlySpan<byte> envelope);
    void EndOfBatch();
    string Describe();
}

/// <summary>
/// The aggregator as the sink drives it, minus the database: apply, then take (encode) the checkpoint every
/// batch. Without <paramref name="checkpoint"/> nothing is encoded (a stage of the breakdown).
/// </summary>
internal sealed class AggregatorContender(AggregatorSettings settings, bool checkpoint = true) : ITopKContender
{
    private static readonly PartitionKey Partition = new("syslog", 0);
    private readonly ApplyStats _stats = new(settings.Granularities.Count);
    private DateTimeOffset _now = DateTimeOffset.MinValue;
    public TopKAggregator Aggregator { get; } = new(settings);
    public long CheckpointBytes { get; private set; }

    public void Apply(long offset, ReadOnlySpan<byte> envelope)
    {
        // The clock runs with the stream (a live consumer), so no event is "future".
        if (_now == DateTimeOffset.MinValue) _now = DateTimeOffset.UtcNow.AddYears(1);
        if (!Aggregator.Apply(Partition, offset, envelope, _now, _stats)) throw new InvalidOperationException("bad envelope");
    }

    public void EndOfBatch()
    {
        if (!checkpoint) return;
        var taken = Aggregator.TakeCheckpoint(_now);
        CheckpointBytes += taken.Partials.Sum(p => (long)p.Sketch.Length);
        Aggregator.Checkpointed();
    }

    public string Describe()
    {
        var (windows, entries) = Aggregator.Size();
        return $"{windows} open windows, {entries:N0} tracked keys; checkpoints encoded {CheckpointBytes / 1024 / 1024:N0} MiB";
    }
}

/// <summary>
/// A stage of the breakdown: the envelope scan alone, or the scan plus the keys of the given dimensions
/// (derived, then thrown away). Each key's length is summed so that nothing can be optimised out.
/// </summary>
internal sealed class ExtractionContender : ITopKContender
{
    private readonly KeyExtractor _keys;
    private readonly EnvelopeScanner _scanner;
    private readonly ScannedEvent _event;
    private readonly int[] _dimensions;
    private long _bytes;

    public ExtractionContender(AggregatorSettings settings, params string[] dimensions)
    {
        _keys = new KeyExtractor(settings.Dimensions, settings.MaxKeyLength);
        (_scanner, _event) = _keys.NewScanner();
        _dimensions = [.. dimensions.Select(name => settings.Dimensions.Select(d => d.Name).ToList().IndexOf(name))];
        if (_dimensions.Contains(-1)) throw new ArgumentException($"unknown dimension among {string.Join(",", dimensions)}");
    }

    public void Apply(long offset, ReadOnlySpan<byte> envelope)
    {
        if (!_scanner.Scan(envelope, _event) || _event.ReceivedAt is null) throw new InvalidOperationException("bad envelope");
        foreach (var d in _dimensions) _bytes += _keys.KeyOf(d, _event).Length;
    }

    public void EndOfBatch()
    {
    }

    public string Describe() => $"{_bytes:N0} key bytes";
}

/// <summary>
/// Exact counts: a dictionary of strings per window and dimension (each UTF-8 key read as chars, so a known key
/// allocates nothing); minute windows dropped once past the lateness.
/// </summary>
internal sealed class ExactContender : ITopKContender
{
    private readonly AggregatorSettings _settings;
    private readonly KeyExtractor _keys;
    private readonly EnvelopeScanner _scanner;
    private readonly ScannedEvent _event;
    private readonly Dictionary<long, Dictionary<string, long>[]>[] _windows;
    private long _watermark = long.MinValue;

    public ExactContender(AggregatorSettings settings)
    {
        _settings = settings;
        _keys = new KeyExtractor(settings.Dimensions, settings.MaxKeyLength);
        (_scanner, _event) = _keys.NewScanner();
        _windows = settings.Granularities.Select(_ => new Dictionary<long, Dictionary<string, long>[]>()).ToArray();
    }

    public Dictionary<string, long> Hour(int dimension, long start) => _windows[1][start][dimension];

    public void Apply(long offset, ReadOnlySpan<byte> envelope)
    {
        if (!_scanner.Scan(envelope, _event) || _event.ReceivedAt is not { } at) throw new InvalidOperationException("bad envelope");
        var weight = (long)Math.Max(1, _event.SampleRate);
        if (at.UtcTicks > _watermark)
        {
            _watermark = at.UtcTicks;
            var minute = _settings.Granularities[0];
            var boundary = minute.StartTicks(_watermark - _settings.AllowedLateness.Ticks);
            foreach (var start in _windows[0].Keys.Where(s => s + minute.Size.Ticks <= boundary).ToList()) _windows[0].Remove(start);
        }
        Span<char> chars = stackalloc char[4096];
        for (var d = 0; d < _settings.Dimensions.Count; d++)
        {
            var utf8 = _keys.KeyOf(d, _event);
            if (utf8.IsEmpty) continue;
            var key = chars[..System.Text.Encoding.UTF8.GetChars(utf8, chars)];
            for (var g = 0; g < _windows.Length; g++)
            {
                var start = _settings.Granularities[g].StartTicks(at);
                if (!_windows[g].TryGetValue(start, out var counts))
                {
                    counts = _settings.Dimensions.Select(_ => new Dictionary<string, long>(StringComparer.Ordinal)).ToArray();
                    _windows[g][start] = counts;
                }
                var lookup = counts[d].GetAlternateLookup<ReadOnlySpan<char>>();
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(lookup, key, out _);
                slot += weight;
            }
        }
    }

    public void EndOfBatch()
    {
    }

    public string Describe() =>
        $"{_windows.Sum(w => w.Count)} open windows, {_windows.Sum(w => w.Values.Sum(ds => ds.Sum(x => (long)x.Count))):N0} exact keys";
}
