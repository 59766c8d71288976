using System.Buffers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// Turns records into archive lines, chained, in one buffer that the writer appends with one write: each record
/// is serialised right after the 32 raw bytes of the previous hash, so <c>H(N) = SHA-256(H(N-1) ‖ C(N))</c> is
/// one hashing call over one span (<see cref="ArchiveFormat"/>), then copied out with its hash member. Also keeps
/// the tally of what it staged (<see cref="SegmentTally"/>), so the writer knows what a segment holds without
/// reading it back. Not thread-safe.
/// </summary>
internal sealed class RecordStager : IDisposable
{
    private readonly ArrayBufferWriter<byte> _record = new(4096);
    private readonly ArrayBufferWriter<byte> _pending = new(256 * 1024);
    private readonly Utf8JsonWriter _json;
    private readonly byte[] _head = new byte[ArchiveFormat.HashSize];
    private long _seq;

    public RecordStager() =>
        _json = new Utf8JsonWriter(_record, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false });

    /// <summary>The lines staged since the last <see cref="Restart"/>, ready to append.</summary>
    public ReadOnlySpan<byte> Pending => _pending.WrittenSpan;

    /// <summary>Seq of the last record staged (or of the chain head restarted from).</summary>
    public long Seq => _seq;

    /// <summary>H of the last record staged.</summary>
    public ReadOnlySpan<byte> Head => _head;

    /// <summary>What has been staged since the last <see cref="Restart"/>.</summary>
    public SegmentTally Staged { get; } = new();

    /// <summary>Drops what was staged and continues the chain from <paramref name="seq"/> and <paramref name="headHex"/>.</summary>
    public void Restart(long seq, string headHex)
    {
        _pending.ResetWrittenCount();
        Staged.Clear();
        _seq = seq;
        Convert.FromHexString(headHex, _head, out _, out _);
    }

    /// <summary>Stages an event read from Kafka (<paramref name="source"/>) or an alert (null).</summary>
    public void Stage(ConsumedRecord? source, EcsDocument doc)
    {
        Span<byte> hex = stackalloc byte[64];
        Begin(source, hex);
        // The document is a JSON value of its own after "doc":, then the record's closing brace.
        _json.Reset(_record);
        doc.WriteTo(_json);
        _json.Flush();
        End(source, hex);
    }

    /// <summary>Stages an event whose ECS document was written to JSON already (<see cref="EcsDocument.WriteTo"/>, relaxed escaping).</summary>
    public void Stage(ConsumedRecord? source, ReadOnlySpan<byte> docJson)
    {
        Span<byte> hex = stackalloc byte[64];
        Begin(source, hex);
        docJson.CopyTo(_record.GetSpan(docJson.Length));
        _record.Advance(docJson.Length);
        End(source, hex);
    }

    private void Begin(ConsumedRecord? source, Span<byte> hex)
    {
        _record.ResetWrittenCount();
        _head.CopyTo(_record.GetSpan(ArchiveFormat.HashSize));
        _record.Advance(ArchiveFormat.HashSize);
        ArchiveFormat.ToHex(_head, hex);
        WriteHeader(source, hex);
    }

    private void End(ConsumedRecord? source, ReadOnlySpan<byte> hex)
    {
        _record.GetSpan(1)[0] = (byte)'}';
        _record.Advance(1);

        // Only now, with the record complete, does the chain move on: H(N-1) ‖ C(N) lie next to each other.
        var hashed = _record.WrittenSpan;
        if (SHA256.HashData(hashed, _head) != ArchiveFormat.HashSize) throw new InvalidOperationException("SHA-256 gave no hash");
        var content = hashed[ArchiveFormat.HashSize..^1];
        var line = _pending.GetSpan(content.Length + ArchiveFormat.HashSuffixLength + 1);
        content.CopyTo(line);
        var at = content.Length;
        ArchiveFormat.HashMemberStart.CopyTo(line[at..]);
        at += ArchiveFormat.HashMemberStart.Length;
        ArchiveFormat.ToHex(_head, line.Slice(at, 64));
        at += 64;
        line[at++] = (byte)'"';
        line[at++] = (byte)'}';
        line[at++] = (byte)'\n';
        _pending.Advance(at);
        _seq++;
        Staged.Add(_seq, hex, source);
    }

    /// <summary>
    /// <c>{"seq":N,"prev":"…","type":"…",["topic":"…","partition":P,"offset":O,]"doc":</c>, byte for byte as a
    /// <see cref="Utf8JsonWriter"/> writes it, without one call per member: numbers in invariant digits, and a topic
    /// of Kafka's own characters (letters, digits, '.', '_', '-') needs no escaping (any other goes through the writer).
    /// </summary>
    private void WriteHeader(ConsumedRecord? source, ReadOnlySpan<byte> prevHex)
    {
        if (source is not null && !PlainTopic(source.Topic))
        {
            WriteHeaderWithWriter(source, prevHex);
            return;
        }
        var span = _record.GetSpan(256 + (source?.Topic.Length ?? 0));
        var at = Put(span, 0, "{\"seq\":"u8);
        at += Digits(span[at..], _seq + 1);
        at = Put(span, at, ",\"prev\":\""u8);
        at = Put(span, at, prevHex);
        if (source is null)
        {
            at = Put(span, at, "\",\"type\":\"alert\",\"doc\":"u8);
        }
        else
        {
            at = Put(span, at, "\",\"type\":\"event\",\"topic\":\""u8);
            at = Put(span, at, TopicUtf8(source.Topic));
            at = Put(span, at, "\",\"partition\":"u8);
            at += Digits(span[at..], source.Partition);
            at = Put(span, at, ",\"offset\":"u8);
            at += Digits(span[at..], source.Offset);
            at = Put(span, at, ",\"doc\":"u8);
        }
        _record.Advance(at);
    }

    private void WriteHeaderWithWriter(ConsumedRecord source, ReadOnlySpan<byte> prevHex)
    {
        // A JSON object opened and left open at "doc": written member by member, then its raw bytes kept.
        var scratch = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(scratch, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("seq"u8, _seq + 1);
            json.WriteString("prev"u8, prevHex);
            json.WriteString("type"u8, ArchiveFormat.EventType);
            json.WriteString("topic"u8, source.Topic);
            json.WriteNumber("partition"u8, source.Partition);
            json.WriteNumber("offset"u8, source.Offset);
            json.WriteNull("doc"u8);
            json.WriteEndObject();
        }
        // ...,"doc":null}  →  ...,"doc":
        var written = scratch.WrittenSpan[..^"null}".Length];
        written.CopyTo(_record.GetSpan(written.Length));
        _record.Advance(written.Length);
    }

    private string? _topic;
    private byte[] _topicUtf8 = [];

    private ReadOnlySpan<byte> TopicUtf8(string topic)
    {
        if (!ReferenceEquals(topic, _topic))
        {
            _topicUtf8 = System.Text.Encoding.ASCII.GetBytes(topic);
            _topic = topic;
        }
        return _topicUtf8;
    }

    private static bool PlainTopic(string topic)
    {
        foreach (var c in topic)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        return topic.Length > 0;
    }

    private static int Put(Span<byte> span, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        return at + bytes.Length;
    }

    private static int Digits(Span<byte> span, long value) =>
        System.Buffers.Text.Utf8Formatter.TryFormat(value, span, out var written) ? written : throw new InvalidOperationException("no room for a number");

    public void Dispose() => _json.Dispose();
}
