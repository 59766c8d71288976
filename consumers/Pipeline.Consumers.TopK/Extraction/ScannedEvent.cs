using System.Text.Json;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>A piece of text in a <see cref="ScannedEvent"/>'s arena.</summary>
internal readonly record struct TextSlot(int Start, int Length)
{
    public static readonly TextSlot None = new(-1, 0);
    public bool IsPresent => Start >= 0;
}

/// <summary>
/// The fields of one envelope the aggregator needs, read by <see cref="EnvelopeScanner"/>. Text lives in a
/// reused char arena, so scanning allocates nothing per event once the arena has grown to the largest event.
/// One instance per thread; its contents are valid until the next scan.
/// </summary>
internal sealed class ScannedEvent
{
    private char[] _arena = new char[1024];
    private int _used;

    public ScannedEvent(int payloadPaths) => Payload = new TextSlot[payloadPaths];

    public bool HasId { get; set; }
    public DateTimeOffset? ReceivedAt { get; set; }
    public int SampleRate { get; set; } = 1;
    public int Severity { get; set; } = -1;
    // Fields, not properties: the fast path fills them in place (out arguments).
    public TextSlot Host = TextSlot.None;
    public TextSlot App = TextSlot.None;
    public TextSlot Tenant = TextSlot.None;
    public TextSlot Kind = TextSlot.None;
    public TextSlot Message = TextSlot.None;
    public TextSlot SenderIp = TextSlot.None;
    /// <summary><c>metric.name</c>.</summary>
    public TextSlot MetricName { get; set; } = TextSlot.None;
    /// <summary><c>metric.labels</c> rendered as the series is written: <c>device="eth0",instance="…",job="node"</c>.</summary>
    public TextSlot MetricSeries { get; set; } = TextSlot.None;
    /// <summary><c>metric.delta</c>; NaN when absent.</summary>
    public double MetricDelta { get; set; } = double.NaN;

    /// <summary>Values of the configured payload paths, in configuration order.</summary>
    public TextSlot[] Payload { get; }

    public ReadOnlySpan<char> Text(TextSlot slot) => slot.IsPresent ? _arena.AsSpan(slot.Start, slot.Length) : default;

    /// <summary>Scratch space for derived keys (templates, addresses), valid until the next scan.</summary>
    public Span<char> Scratch(int length)
    {
        Reserve(length);
        return _arena.AsSpan(_used, length);
    }

    public void Reset()
    {
        _used = 0;
        HasId = false;
        ReceivedAt = null;
        SampleRate = 1;
        Severity = -1;
        Host = App = Tenant = Kind = Message = SenderIp = MetricName = MetricSeries = TextSlot.None;
        MetricDelta = double.NaN;
        Array.Fill(Payload, TextSlot.None);
    }

    /// <summary>Copies the reader's current string (unescaped) into the arena.</summary>
    public TextSlot CopyString(ref Utf8JsonReader reader)
    {
        // Unescaped UTF-16 never needs more chars than the escaped UTF-8 has bytes.
        var max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        Reserve(max);
        var written = reader.CopyString(_arena.AsSpan(_used, max));
        var slot = new TextSlot(_used, written);
        _used += written;
        return slot;
    }

    /// <summary>Copies UTF-8 text with no escapes into the arena; false (nothing copied) when it is not valid UTF-8.</summary>
    public bool TryCopyUtf8(ReadOnlySpan<byte> utf8, out TextSlot slot)
    {
        // UTF-16 never needs more chars than UTF-8 has bytes.
        Reserve(utf8.Length);
        if (System.Text.Unicode.Utf8.ToUtf16(utf8, _arena.AsSpan(_used), out _, out var written, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
        {
            slot = TextSlot.None;
            return false;
        }
        slot = new TextSlot(_used, written);
        _used += written;
        return true;
    }

    /// <summary>Copies a number or literal token as it is written (ASCII).</summary>
    public TextSlot CopyRaw(ReadOnlySpan<byte> ascii)
    {
        Reserve(ascii.Length);
        for (var i = 0; i < ascii.Length; i++) _arena[_used + i] = (char)ascii[i];
        var slot = new TextSlot(_used, ascii.Length);
        _used += ascii.Length;
        return slot;
    }

    /// <summary>Where the next text will be written (to take a slot of several pieces with <see cref="Since"/>).</summary>
    public int Position => _used;

    /// <summary>The text written since <paramref name="start"/>, as one slot.</summary>
    public TextSlot Since(int start) => new(start, _used - start);

    public void Append(ReadOnlySpan<char> text)
    {
        Reserve(text.Length);
        text.CopyTo(_arena.AsSpan(_used));
        _used += text.Length;
    }

    private void Reserve(int length)
    {
        if (_used + length <= _arena.Length) return;
        Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + length));
    }
}
