using System.Globalization;
using System.Text;
using Pipeline.Core.Envelope;

namespace Pipeline.Ops.Tail;

/// <summary>One record as <c>tail</c> shows and filters it.</summary>
internal sealed record TailLine(DateTimeOffset Time, string Host, string App, string? ProcId, int? Severity, string Label, string Message)
{
    private static readonly string[] Keywords = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

    /// <summary>RFC 5424 severity keywords, 0 (emerg) to 7 (debug).</summary>
    public static IReadOnlyList<string> SeverityKeywords => Keywords;

    /// <summary>A record's value as a line: a v1 envelope, or (anything else) its text as it is.</summary>
    public static TailLine From(byte[] value, DateTimeOffset kafkaTimestamp)
    {
        TelemetryEvent e;
        try
        {
            e = EnvelopeCodec.Decode(value);
        }
        catch (EnvelopeFormatException)
        {
            return new TailLine(kafkaTimestamp, "-", "-", null, null, "raw", Encoding.UTF8.GetString(value));
        }
        var severity = e.Syslog?.Severity;
        var label = severity is >= 0 and <= 7 ? Keywords[severity.Value] : e.Kind;
        return new TailLine(e.ReceivedAt, e.Syslog?.Hostname ?? e.Source.Ip ?? "-", e.Syslog?.AppName ?? e.Tenant ?? e.Source.Transport, e.Syslog?.Procid,
            severity, label, Text(e));
    }

    /// <summary><c>2026-11-21T10:00:00Z web-1 sshd[42] err: message</c>, always one line.</summary>
    public override string ToString()
    {
        var app = ProcId is { Length: > 0 } pid ? $"{App}[{pid}]" : App;
        return $"{Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} {Host} {app} {Label}: {OneLine(Message)}";
    }

    private static string Text(TelemetryEvent e)
    {
        if (e.Message is { } message) return message;
        if (e.Metric is { } metric) return $"{metric.Name}={metric.Value.ToString(CultureInfo.InvariantCulture)} ({metric.Type})";
        if (e.Payload is { } payload) return payload.GetRawText();
        return e.Raw ?? "";
    }

    private static string OneLine(string text) =>
        text.Contains('\n', StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal)
            ? text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)
            : text;
}
