using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Reads RFC 5424 and RFC 3164 lines, detecting the format per line.
/// (Walking-skeleton version: a full parser replaces it.)
/// </summary>
public static class SyslogParser
{
    public static SyslogMessage Parse(ReadOnlySpan<byte> line, in SyslogParseContext context)
    {
        var m = new SyslogMessage
        {
            Facility = -1, Severity = -1,
            Hostname = TextRange.Absent, AppName = TextRange.Absent, ProcId = TextRange.Absent,
            MsgId = TextRange.Absent, StructuredData = TextRange.Absent, Message = new TextRange(0, line.Length),
            Status = ParseStatus.Failed, Error = "no PRI",
        };
        if (line.Length < 3 || line[0] != (byte)'<') return m;
        var close = line[..Math.Min(5, line.Length)].IndexOf((byte)'>');
        if (close < 2 || !Utf8Parser.TryParse(line[1..close], out int pri, out var used) || used != close - 1 || pri > 191) return m;
        m.Facility = pri >> 3;
        m.Severity = pri & 7;
        var pos = close + 1;
        if (line.Length > pos + 1 && line[pos] == (byte)'1' && line[pos + 1] == (byte)' ')
        {
            m.Format = SyslogFormat.Rfc5424;
            pos += 2;
            var ts = Field(line, ref pos);
            if (ts.IsPresent && DateTimeOffset.TryParse(Encoding.ASCII.GetString(ts.Of(line)), CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) m.Timestamp = t;
            m.Hostname = Field(line, ref pos);
            m.AppName = Field(line, ref pos);
            m.ProcId = Field(line, ref pos);
            m.MsgId = Field(line, ref pos);
            if (pos < line.Length && line[pos] == (byte)'-') pos += 2;
            else if (pos < line.Length && line[pos] == (byte)'[')
            {
                var sdStart = pos;
                while (pos < line.Length && line[pos] == (byte)'[')
                {
                    var end = line[pos..].IndexOf((byte)']');
                    if (end < 0) { pos = line.Length; break; }
                    pos += end + 1;
                }
                m.StructuredData = new TextRange(sdStart, pos - sdStart);
                if (pos < line.Length && line[pos] == (byte)' ') pos++;
            }
            m.Message = pos <= line.Length ? new TextRange(pos, line.Length - pos) : TextRange.Absent;
        }
        else
        {
            m.Format = SyslogFormat.Rfc3164;
            if (line.Length >= pos + 16) pos += 16;
            m.Hostname = Field(line, ref pos);
            var rest = line[pos..];
            var colon = rest.IndexOf((byte)':');
            if (colon > 0)
            {
                var tag = rest[..colon];
                var bracket = tag.IndexOf((byte)'[');
                m.AppName = new TextRange(pos, bracket > 0 ? bracket : colon);
                if (bracket > 0 && tag[^1] == (byte)']') m.ProcId = new TextRange(pos + bracket + 1, colon - bracket - 2);
                pos += colon + 1;
                if (pos < line.Length && line[pos] == (byte)' ') pos++;
            }
            m.Message = new TextRange(pos, line.Length - pos);
        }
        m.Status = ParseStatus.Ok;
        m.Error = null;
        return m;
    }

    private static TextRange Field(ReadOnlySpan<byte> line, ref int pos)
    {
        if (pos >= line.Length) return TextRange.Absent;
        var space = line[pos..].IndexOf((byte)' ');
        var len = space < 0 ? line.Length - pos : space;
        var range = len == 1 && line[pos] == (byte)'-' ? TextRange.Absent : new TextRange(pos, len);
        pos += len + 1;
        return range;
    }
}
