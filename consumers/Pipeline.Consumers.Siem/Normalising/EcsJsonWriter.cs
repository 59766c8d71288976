using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>
/// Writes an <see cref="EcsDocument"/> as JSON straight into a byte buffer: the same bytes as
/// <see cref="EcsDocument.WriteTo(Utf8JsonWriter)"/> with a <see cref="Utf8JsonWriter"/> using
/// <see cref="Options"/>, without a writer call per token. Member names are put down as encoded once
/// (<see cref="EcsSegment.Member"/>); text that the writer's encoder would leave alone (almost all of it) is
/// transcoded into place; anything else — text to escape, doubles, maps, JSON values — goes through a real writer
/// on the side and its bytes are copied, so the rare cases are the writer's own. One per thread.
/// </summary>
internal sealed class EcsJsonWriter : IDisposable
{
    /// <summary>How the archive writes JSON: relaxed escaping (text as it is, but for quotes, backslashes and controls).</summary>
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    private readonly ArrayBufferWriter<byte> _side = new(1024);
    private readonly Utf8JsonWriter _writer;
    private ArrayBufferWriter<byte> _out = null!;

    public EcsJsonWriter() => _writer = new Utf8JsonWriter(_side, Options);

    /// <summary>Appends <paramref name="doc"/> as one JSON object to <paramref name="output"/>.</summary>
    public void Write(EcsDocument doc, ArrayBufferWriter<byte> output)
    {
        _out = output;
        Span<long> order = doc.Count <= 128 ? stackalloc long[doc.Count] : new long[doc.Count];
        doc.Order(order);
        Put((byte)'{');
        // The object path open now (the previous key's segments but its last), compared by reference, as WriteTo does.
        EcsSegment[] open = [];
        var depth = 0;
        var comma = false;
        foreach (var ranked in order)
        {
            ref readonly var entry = ref doc.At((int)ranked);
            var path = entry.Key.Path;
            var common = 0;
            while (common < depth && common < path.Length - 1 && ReferenceEquals(open[common], path[common])) common++;
            for (var d = depth; d > common; d--)
            {
                Put((byte)'}');
                comma = true;
            }
            for (var d = common; d < path.Length - 1; d++)
            {
                if (comma) Put((byte)',');
                Put(path[d].Member);
                Put((byte)'{');
                comma = false;
            }
            open = path;
            depth = path.Length - 1;
            if (comma) Put((byte)',');
            Put(path[^1].Member);
            Value(entry);
            comma = true;
        }
        for (var d = depth; d > 0; d--) Put((byte)'}');
        Put((byte)'}');
        _out = null!;
    }

    private void Value(in EcsDocument.Entry entry)
    {
        switch (entry.Kind)
        {
            case EcsDocument.Kind.String:
                Text((string)entry.Ref!);
                break;
            case EcsDocument.Kind.Long:
                var span = _out.GetSpan(20);
                Utf8Formatter.TryFormat(entry.Bits, span, out var written);
                _out.Advance(written);
                break;
            case EcsDocument.Kind.Bool:
                Put(entry.Bits != 0 ? "true"u8 : "false"u8);
                break;
            case EcsDocument.Kind.Time:
                var time = _out.GetSpan(EcsDocument.TimeLength + 2);
                time[0] = (byte)'"';
                EcsDocument.FormatTime(entry.Time, time[1..]);
                time[EcsDocument.TimeLength + 1] = (byte)'"';
                _out.Advance(EcsDocument.TimeLength + 2);
                break;
            case EcsDocument.Kind.Strings:
                Put((byte)'[');
                var items = (string[])entry.Ref!;
                for (var i = 0; i < items.Length; i++)
                {
                    if (i > 0) Put((byte)',');
                    Text(items[i]);
                }
                Put((byte)']');
                break;
            default:
                Aside(entry);
                break;
        }
    }

    /// <summary>A string: transcoded into place when the encoder would escape none of it, else as the writer writes it.</summary>
    private unsafe void Text(string text)
    {
        int first;
        fixed (char* chars = text) first = Encoder.FindFirstCharacterToEncode(chars, text.Length);
        if (first >= 0)
        {
            _side.ResetWrittenCount();
            _writer.Reset(_side);
            _writer.WriteStringValue(text);
            _writer.Flush();
            Put(_side.WrittenSpan);
            return;
        }
        var span = _out.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length) + 2);
        span[0] = (byte)'"';
        var length = Encoding.UTF8.GetBytes(text, span[1..]);
        span[length + 1] = (byte)'"';
        _out.Advance(length + 2);
    }

    /// <summary>A value the writer writes (doubles, maps, JSON copied as it is): written on the side, then copied.</summary>
    private void Aside(in EcsDocument.Entry entry)
    {
        _side.ResetWrittenCount();
        _writer.Reset(_side);
        EcsDocument.WriteValue(_writer, entry);
        _writer.Flush();
        Put(_side.WrittenSpan);
    }

    private void Put(byte b)
    {
        _out.GetSpan(1)[0] = b;
        _out.Advance(1);
    }

    private void Put(ReadOnlySpan<byte> bytes) => _out.Write(bytes);

    public void Dispose() => _writer.Dispose();
}
