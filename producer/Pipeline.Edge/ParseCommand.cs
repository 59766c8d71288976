using System.Buffers;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.Edge;

/// <summary>
/// <c>parse</c>: syslog lines on stdin → one envelope JSON per line on stdout, exactly as the edge would
/// publish them. For people debugging what their devices send.
/// </summary>
internal static class ParseCommand
{
    public static int Run(Stream input, Stream output, ITimeZoneResolver? timeZones = null)
    {
        var origin = new IngestOrigin(new ListenerMarkup("stdin", "stdin", Environment.MachineName, new Dictionary<string, string>(), null), null, null);
        var writer = EnvelopeWriter.ForCurrentThread;
        var zones = timeZones ?? UtcTimeZoneResolver.Instance;
        using var buffered = new BufferedStream(output, 64 * 1024);
        var pending = new ArrayBufferWriter<byte>(4096);
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = input.Read(chunk)) > 0)
        {
            pending.Write(chunk.AsSpan(0, read));
            var consumed = 0;
            var data = pending.WrittenSpan;
            int newline;
            while ((newline = data[consumed..].IndexOf((byte)'\n')) >= 0)
            {
                WriteOne(data.Slice(consumed, newline), origin, writer, zones, buffered);
                consumed += newline + 1;
            }
            var rest = data[consumed..].ToArray();
            pending.ResetWrittenCount();
            pending.Write(rest);
        }
        if (pending.WrittenCount > 0) WriteOne(pending.WrittenSpan, origin, writer, zones, buffered);
        buffered.Flush();
        return 0;
    }

    private static void WriteOne(ReadOnlySpan<byte> line, IngestOrigin origin, EnvelopeWriter writer, ITimeZoneResolver zones, Stream output)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        if (line.IsEmpty) return;
        var now = DateTimeOffset.UtcNow;
        var message = SyslogParser.Parse(line, new SyslogParseContext(now, null, zones));
        output.Write(writer.WriteSyslog(new EnvelopeHeader(now, Core.Envelope.EventKinds.Log, origin, 1), line, message));
        output.WriteByte((byte)'\n');
    }
}
