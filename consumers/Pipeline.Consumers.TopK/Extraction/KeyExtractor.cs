namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// Reads each configured dimension's key from a scanned envelope, as UTF-8: straight from the envelope's text, or
/// derived (template, source address) into the event's scratch space. Keys are spans valid until the next
/// key is derived or the next event is scanned; nothing is allocated. Key lengths are limited in UTF-16 chars, as
/// they were when keys were strings, so the same keys are kept (see <see cref="Utf8Cut"/>).
/// </summary>
internal sealed class KeyExtractor
{
    private readonly Dimension[] _dimensions;
    private readonly int[] _payloadSlot;
    private readonly int _maxKeyLength;
    // The one metric name of each metric.<name> dimension, as UTF-8 (null for other dimensions).
    private readonly byte[]?[] _metricNames;
    private static readonly byte[][] SeverityNames = [.. Dimension.SeverityNames.Select(System.Text.Encoding.ASCII.GetBytes)];

    public KeyExtractor(IReadOnlyList<Dimension> dimensions, int maxKeyLength)
    {
        _dimensions = [.. dimensions];
        _maxKeyLength = maxKeyLength;
        var paths = new List<string[]>();
        _payloadSlot = new int[_dimensions.Length];
        for (var d = 0; d < _dimensions.Length; d++)
        {
            _payloadSlot[d] = -1;
            if (_dimensions[d].Kind != DimensionKind.Payload) continue;
            _payloadSlot[d] = paths.Count;
            paths.Add(_dimensions[d].PayloadPath);
        }
        PayloadPaths = paths;
        _metricNames = [.. _dimensions.Select(d => d.Kind == DimensionKind.MetricSeries ? System.Text.Encoding.UTF8.GetBytes(d.PayloadPath[0]) : null)];
    }

    public IReadOnlyList<Dimension> Dimensions => _dimensions;

    /// <summary>The payload paths the scanner must read, in slot order.</summary>
    public IReadOnlyList<string[]> PayloadPaths { get; }

    /// <summary>A scanner and a reusable event for these dimensions.</summary>
    public (EnvelopeScanner Scanner, ScannedEvent Event) NewScanner() =>
        (new EnvelopeScanner(PayloadPaths, _dimensions.Any(d => d.Kind is DimensionKind.Metric or DimensionKind.MetricSeries)), new ScannedEvent(PayloadPaths.Count));

    /// <summary>
    /// What an event adds to dimension <paramref name="d"/>: its weight (<c>sample_rate</c>), except for a
    /// <c>metric.&lt;name&gt;</c> dimension, where it is the sample's increase since the previous scrape times that
    /// weight, in whole units (0 — nothing — for no increase, or none known).
    /// </summary>
    public long WeightOf(int d, ScannedEvent e, long weight)
    {
        if (_dimensions[d].Kind != DimensionKind.MetricSeries) return weight;
        var increase = Math.Round(e.MetricDelta * weight);
        // NaN (no increase known) compares false; a runaway value is held below where sums could overflow.
        return increase >= 1 ? (long)Math.Min(increase, 1L << 52) : 0;
    }

    /// <summary>The UTF-8 key of dimension <paramref name="d"/> in <paramref name="e"/>, cut at the maximum key length; empty when it has none.</summary>
    public ReadOnlySpan<byte> KeyOf(int d, ScannedEvent e)
    {
        var key = Read(d, e);
        // A char is at least one byte: a key no longer in bytes than the limit is within it.
        return key.Length > _maxKeyLength ? Cut(key, e) : key;
    }

    private ReadOnlySpan<byte> Cut(ReadOnlySpan<byte> key, ScannedEvent e)
    {
        var kept = Utf8Cut.Prefix(key, _maxKeyLength, out var loneHalf);
        if (!loneHalf) return key[..kept];
        // Cut inside a surrogate pair: the kept half is written as the replacement char, after a copy of the rest.
        var copy = e.Scratch(kept + 3);
        key[..kept].CopyTo(copy);
        "\uFFFD"u8.CopyTo(copy[kept..]);
        return copy;
    }

    private ReadOnlySpan<byte> Read(int d, ScannedEvent e)
    {
        switch (_dimensions[d].Kind)
        {
            case DimensionKind.Host: return e.Text(e.Host);
            case DimensionKind.App: return e.Text(e.App);
            case DimensionKind.Tenant: return e.Text(e.Tenant);
            case DimensionKind.Kind: return e.Text(e.Kind);
            case DimensionKind.SenderIp: return e.Text(e.SenderIp);
            case DimensionKind.Payload: return e.Text(e.Payload[_payloadSlot[d]]);
            case DimensionKind.Metric: return e.Text(e.MetricName);
            case DimensionKind.MetricSeries:
                return e.Text(e.MetricName).SequenceEqual(_metricNames[d]) ? e.Text(e.MetricSeries) : default;
            case DimensionKind.Severity:
                return e.Severity >= 0 && e.Severity < SeverityNames.Length ? SeverityNames[e.Severity] : default;
            case DimensionKind.Template:
            {
                if (!e.Message.IsPresent) return default;
                // Take the scratch space first: growing the arena moves the message text.
                var scratch = e.Scratch(MessageTemplate.MaxBytes(_maxKeyLength));
                var n = MessageTemplate.Mask(e.Text(e.Message), scratch, _maxKeyLength);
                return scratch[..n];
            }
            case DimensionKind.SourceIp:
            {
                if (!e.Message.IsPresent) return default;
                var scratch = e.Scratch(SourceIp.MaxLength);
                var n = SourceIp.Find(e.Text(e.Message), scratch);
                return scratch[..n];
            }
            default:
                return default;
        }
    }
}
