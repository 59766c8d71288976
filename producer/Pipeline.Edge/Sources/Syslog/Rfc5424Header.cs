using static Pipeline.Edge.Sources.Syslog.SyslogBytes;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Reads an RFC 5424 header after its VERSION, to the letter of §6 where senders keep to it (see
/// <see cref="SyslogParser"/> for the policy). Fields are ranges into the line.
/// </summary>
internal static class Rfc5424Header
{
    private const int MaxHostname = 255;
    private const int MaxAppName = 48;
    private const int MaxProcId = 128;
    private const int MaxMsgId = 32;

    /// <summary>Reads TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG] from <paramref name="pos"/>.</summary>
    public static void Read(ReadOnlySpan<byte> line, int pos, ref SyslogMessage m)
    {
        m.Format = SyslogFormat.Rfc5424;
        m.Message = TextRange.Absent;

        if (!NextToken(line, ref pos, out var stamp))
        {
            m.Error ??= SyslogParseErrors.TruncatedHeader;
            return;
        }

        if (!IsNil(line, stamp))
        {
            var text = stamp.Of(line);
            var used = SyslogTimestamp.ParseRfc3339(text, out var parts);
            if (used == text.Length && used > 0 && parts.HasOffset && LocalTime.TryCreate(parts, out var value))
            {
                m.Timestamp = value;
                m.TimestampExtraNanoseconds = parts.ExtraNanoseconds;
            }
            else
            {
                m.Error ??= SyslogParseErrors.InvalidTimestamp;
            }
        }

        ReadFields(line, pos, ref m);
    }

    /// <summary>Reads HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG] from <paramref name="pos"/>.</summary>
    public static void ReadFields(ReadOnlySpan<byte> line, int pos, ref SyslogMessage m)
    {
        m.Format = SyslogFormat.Rfc5424;
        m.Message = TextRange.Absent;
        if (!HeaderField(line, ref pos, MaxHostname, SyslogParseErrors.InvalidHostname, ref m.Hostname, ref m.Error)
            || !HeaderField(line, ref pos, MaxAppName, SyslogParseErrors.InvalidAppName, ref m.AppName, ref m.Error)
            || !HeaderField(line, ref pos, MaxProcId, SyslogParseErrors.InvalidProcId, ref m.ProcId, ref m.Error)
            || !HeaderField(line, ref pos, MaxMsgId, SyslogParseErrors.InvalidMsgId, ref m.MsgId, ref m.Error))
        {
            return;
        }

        if (pos >= line.Length)
        {
            m.Error ??= SyslogParseErrors.TruncatedHeader;
            return;
        }

        if (line[pos] == '-' && (pos + 1 == line.Length || line[pos + 1] == ' '))
        {
            pos++;
            if (pos < line.Length) SyslogParser.SetMessage(line, pos + 1, ref m, lookForStructuredData: true);
            return;
        }

        var wellFormed = false;
        var used = line[pos] == '[' ? StructuredData.Measure(line[pos..], out wellFormed) : 0;
        if (used > 0 && wellFormed && (pos + used == line.Length || line[pos + used] == ' '))
        {
            m.StructuredData = new TextRange(pos, used);
            pos += used;
        }
        else
        {
            m.Error ??= SyslogParseErrors.MalformedStructuredData;
            // A bracketed block that is not RFC 5424 syntax (Check Point, unquoted values) is skipped whole, so the
            // message is what follows it; without a closing bracket the message starts where the SD did.
            var block = line[pos] == '[' ? StructuredDataBounds.MeasureUnreadableBlock(line[pos..]) : 0;
            if (block == 0)
            {
                SyslogParser.SetMessage(line, pos, ref m, lookForStructuredData: false);
                return;
            }

            pos += block;
        }

        if (pos < line.Length) SyslogParser.SetMessage(line, pos + 1, ref m, lookForStructuredData: false);
    }

    /// <summary>
    /// Whether an RFC 5424 header follows from <paramref name="pos"/> (after a timestamp that had no VERSION before it):
    /// four fields that cannot be a BSD tag (none ends with <c>:</c> or <c>]</c>), then NILVALUE or <c>[</c>.
    /// </summary>
    public static bool FollowsAt(ReadOnlySpan<byte> line, int pos)
    {
        for (var field = 0; field < 4; field++)
        {
            if (!NextToken(line, ref pos, out var token) || token.Length == 0 || pos >= line.Length) return false;
            var text = token.Of(line);
            if (text[^1] is (byte)':' or (byte)']' || !AllPrintable(text)) return false;
        }

        return (line[pos] == '-' && (pos + 1 == line.Length || line[pos + 1] == ' ')) || line[pos] == '[';
    }

    private static bool HeaderField(ReadOnlySpan<byte> line, ref int pos, int max, string error, ref TextRange field, ref string? slot)
    {
        if (!NextToken(line, ref pos, out var token))
        {
            slot ??= SyslogParseErrors.TruncatedHeader;
            return false;
        }

        if (IsNil(line, token)) return true;
        if (token.Length == 0)
        {
            slot ??= error;
            return true;
        }

        field = token;
        if (token.Length > max || !AllPrintable(token.Of(line))) slot ??= error;
        return true;
    }

    private static bool IsNil(ReadOnlySpan<byte> line, TextRange token) => token.Length == 1 && line[token.Start] == '-';
}
