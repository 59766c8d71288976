using System.Text.Json;
using Name = Pipeline.Core.Envelope.EnvelopeUtf8;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// Reads the v1 envelope fields the aggregator needs in one forward pass over the UTF-8 JSON, skipping the
/// rest (raw line, structured data, headers) without materialising it. This is the hot path's decoder:
/// <c>EnvelopeCodec.Decode</c> builds the whole object graph, which costs several times more per event
/// and allocates every string. Both read the same contract (snake_case v1, properties in any order);
/// a unit test holds them to the same answers.
/// </summary>
internal sealed class EnvelopeScanner
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64 };
    private readonly byte[][][] _paths;

    private readonly bool _readMetric;
    private ulong[] _stops = new ulong[16];
    private readonly Rfc3339.MinuteCache _minute = new();
    private readonly EnvelopeLayout _layout = new();

    /// <param name="payloadPaths">The dotted payload fields to read (from <c>payload.</c> dimensions), in order.</param>
    /// <param name="readMetric">Whether to read the <c>metric</c> object (some dimension is a metric one).</param>
    public EnvelopeScanner(IReadOnlyList<string[]> payloadPaths, bool readMetric = false)
    {
        _readMetric = readMetric;
        if (payloadPaths.Count > 64) throw new ArgumentException("at most 64 payload dimensions");
        _paths = payloadPaths.Select(p => p.Select(System.Text.Encoding.UTF8.GetBytes).ToArray()).ToArray();
    }

    public int PayloadPathCount => _paths.Length;

    /// <summary>Scans one envelope into <paramref name="into"/>; false when it is not a JSON object with an id.</summary>
    public bool Scan(ReadOnlySpan<byte> utf8Json, ScannedEvent into)
    {
        into.Reset(utf8Json);
        if (new EnvelopeFastScan(utf8Json, Stops(utf8Json.Length), into, _minute, _layout, payload: _paths.Length > 0, metric: _readMetric).Scan()) return true;
        into.Reset();
        return ScanWithReader(utf8Json, into);
    }

    /// <summary>The fast path alone: true when it decided (for tests, which hold it to the reader path).</summary>
    internal bool ScanFast(ReadOnlySpan<byte> utf8Json, ScannedEvent into)
    {
        into.Reset(utf8Json);
        return new EnvelopeFastScan(utf8Json, Stops(utf8Json.Length), into, _minute, _layout, payload: _paths.Length > 0, metric: _readMetric).Scan();
    }

    /// <summary>Room for both bitmaps of <see cref="StringStops"/>, one after the other.</summary>
    private Span<ulong> Stops(int length)
    {
        var words = 2 * StringStops.WordsFor(length);
        if (_stops.Length < words) _stops = new ulong[Math.Max(words, _stops.Length * 2)];
        return _stops.AsSpan(0, words);
    }

    /// <summary>
    /// The path that decides whatever the fast path is not sure of: <see cref="Utf8JsonReader"/>, which reads
    /// any valid JSON. Text that is not valid UTF-8 in a field it copies makes the record refused, like invalid JSON.
    /// </summary>
    internal bool ScanWithReader(ReadOnlySpan<byte> utf8Json, ScannedEvent into)
    {
        into.Reset();
        try
        {
            var reader = new Utf8JsonReader(utf8Json, Options);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(Name.Id))
                {
                    reader.Read();
                    into.HasId = reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length > 0;
                }
                else if (reader.ValueTextEquals(Name.ReceivedAt))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var at)) into.ReceivedAt = at;
                }
                else if (reader.ValueTextEquals(Name.SampleRate))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var rate)) into.SampleRate = rate;
                }
                else if (reader.ValueTextEquals(Name.Tenant)) into.Tenant = ReadString(ref reader, into);
                else if (reader.ValueTextEquals(Name.Kind)) into.Kind = ReadString(ref reader, into);
                else if (reader.ValueTextEquals(Name.Message)) into.Message = ReadString(ref reader, into);
                else if (reader.ValueTextEquals(Name.Source)) ReadSource(ref reader, into);
                else if (reader.ValueTextEquals(Name.Syslog)) ReadSyslog(ref reader, into);
                else if (reader.ValueTextEquals(Name.Payload) && _paths.Length > 0) ReadPayload(ref reader, into);
                else if (reader.ValueTextEquals(Name.Metric) && _readMetric) ReadMetric(ref reader, into);
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return reader.TokenType == JsonTokenType.EndObject && into.HasId;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    private static TextSlot ReadString(ref Utf8JsonReader reader, ScannedEvent into)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return into.CopyString(ref reader);
        reader.Skip();
        return TextSlot.None;
    }

    private static void ReadSource(ref Utf8JsonReader reader, ScannedEvent into)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Name.OfSource.Ip)) into.SenderIp = ReadString(ref reader, into);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadSyslog(ref Utf8JsonReader reader, ScannedEvent into)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Name.OfSyslog.Hostname)) into.Host = ReadString(ref reader, into);
            else if (reader.ValueTextEquals(Name.OfSyslog.AppName)) into.App = ReadString(ref reader, into);
            else if (reader.ValueTextEquals(Name.OfSyslog.Severity))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var severity)) into.Severity = severity;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadMetric(ref Utf8JsonReader reader, ScannedEvent into)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Name.OfMetric.Name)) into.MetricName = ReadString(ref reader, into);
            else if (reader.ValueTextEquals(Name.OfMetric.Labels)) into.MetricSeries = ReadLabels(ref reader, into);
            else if (reader.ValueTextEquals(Name.OfMetric.Delta))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var delta)) into.MetricDelta = delta;
                else reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>The labels object as one key, <c>name="value"</c> pairs in the envelope's order, joined by commas.</summary>
    private static TextSlot ReadLabels(ref Utf8JsonReader reader, ScannedEvent into)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return TextSlot.None;
        }
        var start = into.Position;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (into.Position > start) into.Append(","u8);
            into.CopyString(ref reader);
            into.Append("=\""u8);
            reader.Read();
            if (reader.TokenType == JsonTokenType.String) into.CopyString(ref reader);
            else reader.Skip();
            into.Append("\""u8);
        }
        return into.Since(start);
    }

    private void ReadPayload(ref Utf8JsonReader reader, ScannedEvent into)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        var all = _paths.Length == 64 ? ulong.MaxValue : (1UL << _paths.Length) - 1;
        ReadObject(ref reader, into, depth: 0, all);
    }

    /// <summary>
    /// Walks one object of the payload; <paramref name="candidates"/> are the paths whose first
    /// <paramref name="depth"/> segments matched on the way here. Anything no path leads into is skipped.
    /// </summary>
    private void ReadObject(ref Utf8JsonReader reader, ScannedEvent into, int depth, ulong candidates)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var matched = 0UL;
            for (var rest = candidates; rest != 0; rest &= rest - 1)
            {
                var i = System.Numerics.BitOperations.TrailingZeroCount(rest);
                if (_paths[i].Length > depth && reader.ValueTextEquals(_paths[i][depth])) matched |= 1UL << i;
            }
            reader.Read();
            if (matched == 0)
            {
                reader.Skip();
                continue;
            }
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    ReadObject(ref reader, into, depth + 1, matched);
                    break;
                case JsonTokenType.String:
                    SetLeaves(into, depth, matched, into.CopyString(ref reader));
                    break;
                case JsonTokenType.Number:
                case JsonTokenType.True:
                case JsonTokenType.False:
                    SetLeaves(into, depth, matched, into.CopyRaw(reader.ValueSpan));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    private void SetLeaves(ScannedEvent into, int depth, ulong matched, TextSlot value)
    {
        for (var rest = matched; rest != 0; rest &= rest - 1)
        {
            var i = System.Numerics.BitOperations.TrailingZeroCount(rest);
            if (_paths[i].Length == depth + 1) into.Payload[i] = value;
        }
    }
}
