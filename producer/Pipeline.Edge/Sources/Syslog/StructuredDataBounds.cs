namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Where STRUCTURED-DATA begins and ends when it is not a clean field of its own: a bracketed block that is not RFC
/// syntax (to skip it whole), and elements a sender wrote inside the message. Reading the elements is
/// <see cref="StructuredData"/>'s job.
/// </summary>
internal static class StructuredDataBounds
{
    /// <summary>
    /// The length of the bracketed block at the start of <paramref name="s"/> when it cannot be read as elements
    /// (Check Point's <c>[action:"Drop"; ...]</c>, an unquoted value, a bare name): up to the <c>]</c> that closes it,
    /// skipping quoted text with its backslash escapes, and any blocks written right after it. 0 when no <c>]</c>
    /// closes it before the end of the line or a space-separated word follows it directly.
    /// </summary>
    public static int MeasureUnreadableBlock(ReadOnlySpan<byte> s)
    {
        var i = 0;
        while (i < s.Length && s[i] == '[')
        {
            var quoted = false;
            var closed = false;
            for (i++; i < s.Length; i++)
            {
                var b = s[i];
                if (quoted)
                {
                    if (b == '\\') i++;
                    else if (b == '"') quoted = false;
                }
                else if (b == '"')
                {
                    quoted = true;
                }
                else if (b == ']')
                {
                    closed = true;
                    i++;
                    break;
                }
            }

            if (!closed) return 0;
        }

        return i == s.Length || s[i] == ' ' ? i : 0;
    }

    /// <summary>
    /// Elements written at the start of a message (rsyslog and liblogging put them after the tag of a BSD line):
    /// their length, when they read completely, each has at least one parameter (so <c>[error]</c> stays text),
    /// and a space or the end follows.
    /// </summary>
    public static int LeadingInMessage(ReadOnlySpan<byte> message)
    {
        if (message.IsEmpty || message[0] != '[') return 0;
        var used = StructuredData.Measure(message, out var wellFormed, out var withParams);
        return used > 0 && wellFormed && withParams && (used == message.Length || message[used] == ' ') ? used : 0;
    }

    /// <summary>Where elements written at the end of a message start (after a space), under the rules of <see cref="LeadingInMessage"/>; -1 when none.</summary>
    public static int TrailingInMessage(ReadOnlySpan<byte> message)
    {
        if (message.IsEmpty || message[^1] != ']') return -1;
        var from = 0;
        while (true)
        {
            var next = message[from..].IndexOf(" ["u8);
            if (next < 0) return -1;
            var start = from + next + 1;
            var tail = message[start..];
            var used = StructuredData.Measure(tail, out var wellFormed, out var withParams);
            if (used == tail.Length && wellFormed && withParams) return start;
            from = start;
        }
    }
}
