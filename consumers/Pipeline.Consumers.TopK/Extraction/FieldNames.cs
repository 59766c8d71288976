using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Name = Pipeline.Core.Envelope.EnvelopeUtf8;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>The envelope fields <see cref="EnvelopeFastScan"/> reads, by name; any other is skipped.</summary>
internal enum EnvelopeField : byte
{
    Other,
    Id,
    ReceivedAt,
    SampleRate,
    Message,
    Tenant,
    Kind,
    Source,
    Syslog,
    Payload,
    Metric,
    SenderIp,
    Hostname,
    AppName,
    Severity,
}

/// <summary>
/// The names of one object's fields, found by length and then by their bytes read as one or two words: every
/// property of every envelope is looked up here (some twenty an event), where a comparison of byte arrays is a
/// call per candidate.
/// </summary>
internal sealed class FieldNames
{
    /// <summary>Names of at most this many bytes are told apart by two 8-byte words; no field read is longer.</summary>
    private const int MaxLength = 16;

    public static readonly FieldNames TopLevel = new(
        (Name.Id.ToArray(), EnvelopeField.Id), (Name.ReceivedAt.ToArray(), EnvelopeField.ReceivedAt), (Name.SampleRate.ToArray(), EnvelopeField.SampleRate),
        (Name.Message.ToArray(), EnvelopeField.Message), (Name.Tenant.ToArray(), EnvelopeField.Tenant), (Name.Kind.ToArray(), EnvelopeField.Kind),
        (Name.Source.ToArray(), EnvelopeField.Source), (Name.Syslog.ToArray(), EnvelopeField.Syslog), (Name.Payload.ToArray(), EnvelopeField.Payload), (Name.Metric.ToArray(), EnvelopeField.Metric));

    public static readonly FieldNames OfSource = new((Name.OfSource.Ip.ToArray(), EnvelopeField.SenderIp));

    public static readonly FieldNames OfSyslog = new(
        (Name.OfSyslog.Hostname.ToArray(), EnvelopeField.Hostname), (Name.OfSyslog.AppName.ToArray(), EnvelopeField.AppName), (Name.OfSyslog.Severity.ToArray(), EnvelopeField.Severity));

    // By length: the names of that length as their two words.
    private readonly (ulong Head, ulong Tail, EnvelopeField Field)[][] _byLength = new (ulong, ulong, EnvelopeField)[MaxLength + 1][];

    private FieldNames(params (byte[] Name, EnvelopeField Field)[] fields)
    {
        if (fields.Any(f => f.Name.Length > MaxLength)) throw new ArgumentException("a field name is longer than the lookup reads");
        for (var length = 0; length <= MaxLength; length++)
            _byLength[length] = [.. fields.Where(f => f.Name.Length == length).Select(f => (Head(f.Name), Tail(f.Name), f.Field))];
    }

    /// <summary>The field <paramref name="name"/> (as written, unescaped) is, or <see cref="EnvelopeField.Other"/>.</summary>
    public EnvelopeField Find(ReadOnlySpan<byte> name)
    {
        if (name.Length > MaxLength) return EnvelopeField.Other;
        var head = Head(name);
        var tail = Tail(name);
        foreach (var (h, t, field) in _byLength[name.Length])
            if (h == head && t == tail) return field;
        return EnvelopeField.Other;
    }

    /// <summary>The first 8 bytes (or all of fewer, as two overlapping halves: with the length they say which bytes these are).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Head(ReadOnlySpan<byte> name)
    {
        ref var at = ref MemoryMarshal.GetReference(name);
        return name.Length switch
        {
            >= 8 => Unsafe.ReadUnaligned<ulong>(ref at),
            >= 4 => Unsafe.ReadUnaligned<uint>(ref at) | ((ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref at, name.Length - 4)) << 32),
            >= 2 => Unsafe.ReadUnaligned<ushort>(ref at) | ((ulong)Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref at, name.Length - 2)) << 16),
            1 => at,
            _ => 0,
        };
    }

    /// <summary>The last 8 bytes of a name longer than 8 (overlapping the head), else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Tail(ReadOnlySpan<byte> name) =>
        name.Length > 8 ? Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref MemoryMarshal.GetReference(name), name.Length - 8)) : 0;
}
