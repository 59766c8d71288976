using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// RFC 5424 STRUCTURED-DATA as JSON: <c>{"sd-id": {"param": "value", ...}, ...}</c>.
/// </summary>
/// <remarks>
/// <para>Grammar read (RFC 5424 §6.3, read liberally where a sender's slip is unambiguous):
/// <c>SD-ELEMENT = "[" SD-ID *(SP PARAM-NAME "=" DQUOTE PARAM-VALUE DQUOTE) "]"</c>. SD-ID and PARAM-NAME are
/// printable US-ASCII except <c>= SP ] "</c>, of any length (the RFC's 32-byte limit is not enforced). A value
/// ends at the first <c>"</c> not preceded by a backslash, so an unescaped <c>]</c> inside a value is accepted, and
/// spaces between <c>=</c> and the opening quote are skipped.</para>
/// <para>Values are unescaped as §6.3.3 says: <c>\"</c>, <c>\\</c> and <c>\]</c> lose their backslash; a backslash
/// before any other byte is kept literally. Bytes that are not valid UTF-8 become U+FFFD, so any input yields valid
/// JSON.</para>
/// <para>Repeats: an SD-ID written twice (which the RFC forbids) is merged into one JSON object; a PARAM-NAME written
/// more than once within an SD-ID (which the RFC allows) becomes a JSON array of its values in line order, while a
/// name written once stays a plain string. No value is ever dropped and no JSON name is ever repeated.</para>
/// </remarks>
public static class StructuredData
{
    // Above this many parameters the working arrays come from the pool instead of the stack.
    private const int StackParams = 32;
    private const int StackBytes = 512;
    private static readonly byte[] Replacement = [0xEF, 0xBF, 0xBD];

    /// <summary>
    /// Writes the elements of <paramref name="sd"/> (as the line has them, brackets included) as one JSON object.
    /// NILVALUE (<c>-</c>) and an empty span write <c>{}</c>. Malformed input never throws: every parameter read
    /// before the first malformed byte is written, the rest is left out (the raw line keeps it).
    /// </summary>
    public static void WriteJson(ReadOnlySpan<byte> sd, Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();

        CountEntries(sd, out var elementCount, out var paramCount);
        if (elementCount > 0)
        {
            Element[]? rentedElements = null;
            Param[]? rentedParams = null;
            Span<Element> elements = elementCount <= StackParams
                ? stackalloc Element[StackParams]
                : (rentedElements = ArrayPool<Element>.Shared.Rent(elementCount));
            Span<Param> parameters = paramCount <= StackParams
                ? stackalloc Param[StackParams]
                : (rentedParams = ArrayPool<Param>.Shared.Rent(paramCount));
            try
            {
                Collect(sd, elements, parameters);
                WriteElements(sd, elements[..elementCount], parameters[..paramCount], writer);
            }
            finally
            {
                if (rentedElements is not null) ArrayPool<Element>.Shared.Return(rentedElements);
                if (rentedParams is not null) ArrayPool<Param>.Shared.Return(rentedParams);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// True when <paramref name="sd"/> is NILVALUE, empty, or one or more elements that read completely with
    /// nothing after them (by the liberal grammar in the remarks of this class).
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> sd)
    {
        if (sd.IsEmpty || (sd.Length == 1 && sd[0] == '-')) return true;
        return Measure(sd, out var wellFormed) == sd.Length && wellFormed;
    }

    /// <summary>
    /// Reads consecutive elements from the start of <paramref name="s"/> and returns how many bytes they cover.
    /// <paramref name="wellFormed"/> is false when an element started but could not be read to its <c>]</c>.
    /// </summary>
    internal static int Measure(ReadOnlySpan<byte> s, out bool wellFormed) => Measure(s, out wellFormed, out _);

    /// <summary>As <see cref="Measure(ReadOnlySpan{byte}, out bool)"/>; <paramref name="everyElementHasParams"/> says no element was bare (<c>[id]</c>).</summary>
    internal static int Measure(ReadOnlySpan<byte> s, out bool wellFormed, out bool everyElementHasParams)
    {
        var reader = new StructuredDataReader(s);
        everyElementHasParams = true;
        while (reader.NextElement(out _))
        {
            var parameters = 0;
            while (reader.NextParam(out _, out _)) parameters++;
            if (parameters == 0) everyElementHasParams = false;
        }

        wellFormed = !reader.Malformed;
        return reader.CompleteLength;
    }

    private static void CountEntries(ReadOnlySpan<byte> sd, out int elements, out int parameters)
    {
        elements = 0;
        parameters = 0;
        var reader = new StructuredDataReader(sd);
        while (reader.NextElement(out _))
        {
            elements++;
            while (reader.NextParam(out _, out _)) parameters++;
        }
    }

    private static void Collect(ReadOnlySpan<byte> sd, Span<Element> elements, Span<Param> parameters)
    {
        var reader = new StructuredDataReader(sd);
        var e = 0;
        var p = 0;
        while (reader.NextElement(out var id))
        {
            var hash = Hash(id.Of(sd));
            // Group = the first element with the same SD-ID, so repeated SD-IDs merge into one object.
            var group = e;
            for (var k = 0; k < e; k++)
            {
                if (elements[k].Hash == hash && id.Of(sd).SequenceEqual(elements[k].Id.Of(sd)))
                {
                    group = k;
                    break;
                }
            }

            elements[e] = new Element(id, hash, group);
            while (reader.NextParam(out var name, out var value))
            {
                parameters[p++] = new Param(name, value, Hash(name.Of(sd)), group);
            }

            e++;
        }
    }

    private static void WriteElements(ReadOnlySpan<byte> sd, ReadOnlySpan<Element> elements, ReadOnlySpan<Param> parameters, Utf8JsonWriter writer)
    {
        for (var g = 0; g < elements.Length; g++)
        {
            if (elements[g].Group != g) continue;
            WriteName(elements[g].Id.Of(sd), writer);
            writer.WriteStartObject();
            for (var i = 0; i < parameters.Length; i++)
            {
                if (parameters[i].Group != g || SeenBefore(sd, parameters, i)) continue;
                var count = 1;
                for (var k = i + 1; k < parameters.Length; k++)
                {
                    if (SameName(sd, parameters[i], parameters[k])) count++;
                }

                WriteName(parameters[i].Name.Of(sd), writer);
                if (count == 1)
                {
                    WriteValue(parameters[i].Value.Of(sd), writer);
                    continue;
                }

                writer.WriteStartArray();
                for (var k = i; k < parameters.Length; k++)
                {
                    if (k == i || SameName(sd, parameters[i], parameters[k])) WriteValue(parameters[k].Value.Of(sd), writer);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }
    }

    private static bool SeenBefore(ReadOnlySpan<byte> sd, ReadOnlySpan<Param> parameters, int i)
    {
        for (var k = 0; k < i; k++)
        {
            if (SameName(sd, parameters[k], parameters[i])) return true;
        }

        return false;
    }

    private static bool SameName(ReadOnlySpan<byte> sd, in Param a, in Param b) =>
        a.Group == b.Group && a.Hash == b.Hash && a.Name.Of(sd).SequenceEqual(b.Name.Of(sd));

    private static void WriteName(ReadOnlySpan<byte> name, Utf8JsonWriter writer)
    {
        if (Utf8.IsValid(name))
        {
            writer.WritePropertyName(name);
            return;
        }

        Decode(name, unescape: false, writer, asName: true);
    }

    private static void WriteValue(ReadOnlySpan<byte> raw, Utf8JsonWriter writer)
    {
        if (raw.IndexOf((byte)'\\') < 0 && Utf8.IsValid(raw))
        {
            writer.WriteStringValue(raw);
            return;
        }

        Decode(raw, unescape: true, writer, asName: false);
    }

    private static void Decode(ReadOnlySpan<byte> raw, bool unescape, Utf8JsonWriter writer, bool asName)
    {
        // Each invalid byte can grow to the three bytes of U+FFFD; unescaping only shrinks.
        var size = raw.Length * 3;
        byte[]? rented = null;
        Span<byte> buffer = size <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(size));
        try
        {
            var o = 0;
            var i = 0;
            while (i < raw.Length)
            {
                var b = raw[i];
                if (unescape && b == '\\' && i + 1 < raw.Length && raw[i + 1] is (byte)'"' or (byte)'\\' or (byte)']')
                {
                    buffer[o++] = raw[i + 1];
                    i += 2;
                }
                else if (b < 0x80)
                {
                    buffer[o++] = b;
                    i++;
                }
                else if (Rune.DecodeFromUtf8(raw[i..], out _, out var used) == OperationStatus.Done)
                {
                    raw.Slice(i, used).CopyTo(buffer[o..]);
                    o += used;
                    i += used;
                }
                else
                {
                    Replacement.CopyTo(buffer[o..]);
                    o += Replacement.Length;
                    i += Math.Max(used, 1);
                }
            }

            if (asName) writer.WritePropertyName(buffer[..o]);
            else writer.WriteStringValue(buffer[..o]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // FNV-1a: cheap, and only a pre-filter before the byte comparison.
    private static int Hash(ReadOnlySpan<byte> s)
    {
        var h = 2166136261u;
        foreach (var b in s) h = (h ^ b) * 16777619u;
        return (int)h;
    }

    private readonly record struct Element(TextRange Id, int Hash, int Group);

    private readonly record struct Param(TextRange Name, TextRange Value, int Hash, int Group);
}
