using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>A piece of text in a <see cref="ScannedEvent"/>'s arena.</summary>
internal readonly record struct TextSlot(int Start, int Length)
{
    public static readonly TextSlot None = new(-1, 0);
    public bool IsPresent => Start >= 0;
}

/// <summary>
/// The fields of one envelope the aggregator needs, read by <see cref="EnvelopeScanner"/>. Text is kept as the
/// envelope's UTF-8 (unescaped, checked to be valid) in a reused byte arena: keys are hashed, compared and stored
/// as UTF-8, so nothing is transcoded, and scanning allocates nothing per event once the arena has grown to the
/// largest event. One instance per thread; its contents are valid until the next scan.
/// </summary>
internal sealed class ScannedEvent
{
    private byte[] _arena = new byte[2048];
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

    /// <summary>The UTF-8 text of <paramref name="slot"/> (empty when absent).</summary>
    public ReadOnlySpan<byte> Text(TextSlot slot) => slot.IsPresent ? _arena.AsSpan(slot.Start, slot.Length) : default;

    /// <summary>The text of <paramref name="slot"/> as a string, or null when absent (tests and tools).</summary>
    public string? String(TextSlot slot) => slot.IsPresent ? Encoding.UTF8.GetString(Text(slot)) : null;

    /// <summary>Scratch space for derived keys (templates, addresses), valid until the next scan.</summary>
    public Span<byte> Scratch(int length)
    {
        Reserve(length);
        return _arena.AsSpan(_used, length);
    }

    /// <summary>
    /// Starts an event of the fast scan: the whole envelope is copied into the arena in one piece, so that a string
    /// without escapes is kept as a slot of that copy (<see cref="TryKeepUtf8"/>) instead of a copy per string.
    /// </summary>
    public void Reset(ReadOnlySpan<byte> envelope)
    {
        Reset();
        Reserve(envelope.Length);
        envelope.CopyTo(_arena);
        _used = envelope.Length;
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

    /// <summary>
    /// Copies the reader's current string (unescaped) into the arena. Text that is not valid UTF-8 throws
    /// <see cref="InvalidOperationException"/>, as reading it as a string does, and the record is refused.
    /// </summary>
    public TextSlot CopyString(ref Utf8JsonReader reader)
    {
        // Unescaped UTF-8 is never longer than the escaped text.
        var max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        Reserve(max);
        var written = reader.CopyString(_arena.AsSpan(_used, max));
        if (!Utf8.IsValid(_arena.AsSpan(_used, written))) throw new InvalidOperationException("a string of the envelope is not valid UTF-8");
        var slot = new TextSlot(_used, written);
        _used += written;
        return slot;
    }

    /// <summary>
    /// Keeps the text with no escapes at <paramref name="start"/> of the envelope given to <see cref="Reset(ReadOnlySpan{byte})"/>;
    /// false when it is not valid UTF-8, which text known to be <paramref name="ascii"/> always is.
    /// </summary>
    public bool TryKeepUtf8(int start, int length, bool ascii, out TextSlot slot)
    {
        slot = new TextSlot(start, length);
        if (ascii || Utf8.IsValid(_arena.AsSpan(start, length))) return true;
        slot = TextSlot.None;
        return false;
    }

    /// <summary>
    /// Copies the content of a JSON string with escapes, unescaped; false (the reader path decides) when an escape
    /// is not one this reads or makes no valid text (a lone surrogate), or the rest is not valid UTF-8.
    /// </summary>
    public bool TryCopyEscaped(ReadOnlySpan<byte> escaped, bool ascii, out TextSlot slot)
    {
        slot = TextSlot.None;
        // Escapes are ASCII: the text is valid UTF-8 when what is between them is.
        if (!ascii && !Utf8.IsValid(escaped)) return false;
        Reserve(escaped.Length);
        var written = JsonUnescape.Unescape(escaped, _arena.AsSpan(_used, escaped.Length));
        if (written < 0) return false;
        slot = new TextSlot(_used, written);
        _used += written;
        return true;
    }

    /// <summary>Copies a number or literal token as it is written (ASCII).</summary>
    public TextSlot CopyRaw(ReadOnlySpan<byte> ascii) => Append(ascii);

    /// <summary>Where the next text will be written (to take a slot of several pieces with <see cref="Since"/>).</summary>
    public int Position => _used;

    /// <summary>The text written since <paramref name="start"/>, as one slot.</summary>
    public TextSlot Since(int start) => new(start, _used - start);

    public TextSlot Append(ReadOnlySpan<byte> utf8)
    {
        Reserve(utf8.Length);
        utf8.CopyTo(_arena.AsSpan(_used));
        var slot = new TextSlot(_used, utf8.Length);
        _used += utf8.Length;
        return slot;
    }

    private void Reserve(int length)
    {
        if (_used + length <= _arena.Length) return;
        Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + length));
    }
}
