using System.Globalization;
using System.Text;
using System.Text.Json;
using Pipeline.Consumers.Siem.Archive;
using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.Consumers.Siem.Forwarding;

/// <summary>
/// ArcSight Common Event Format for an archived record:
/// <c>CEF:0|Pipeline|telemetry-pipeline|1.0|&lt;signature id&gt;|&lt;name&gt;|&lt;severity&gt;|&lt;extensions&gt;</c>,
/// wrapped in an RFC 5424 message. Header fields escape <c>\</c> and <c>|</c>; extension values escape
/// <c>\</c>, <c>=</c> and line breaks. Every message carries the archive's seq and record hash
/// (<c>cs1</c>, <c>cs2</c>) so what the SIEM holds can be matched to the archive record by record.
/// </summary>
internal static class CefFormatter
{
    public const string Vendor = "Pipeline";
    public const string Product = "telemetry-pipeline";
    public const string Version = "1.0";

    // Syslog severity (0 emergency .. 7 debug) → CEF severity (0..10).
    private static readonly int[] CefFromSyslog = [10, 9, 8, 7, 5, 4, 3, 1];

    /// <summary>The CEF text of a record; <paramref name="titles"/> maps classification names to their titles.</summary>
    public static string Format(ArchivedRecord record, IReadOnlyDictionary<string, string> titles, int maxMessageChars)
    {
        var doc = record.Json;
        var kind = Text(doc, "event.kind");
        var classification = Text(doc, "pipeline.classification");
        string signature, name;
        if (record.IsAlert)
        {
            signature = Text(doc, "rule.name") ?? "alert";
            name = Text(doc, "rule.description") is { Length: > 0 } description ? description : signature;
        }
        else if (classification is not null)
        {
            signature = Text(doc, EcsFields.EventCode) ?? classification;
            name = titles.TryGetValue(classification, out var title) ? title : Text(doc, EcsFields.EventAction) ?? classification;
        }
        else
        {
            signature = "unclassified";
            name = Text(doc, EcsFields.ProcessName) is { } process ? process + " event" : kind == "event" ? "event" : kind ?? "event";
        }

        var text = new StringBuilder(512);
        text.Append("CEF:0|").Append(Vendor).Append('|').Append(Product).Append('|').Append(Version).Append('|');
        Header(text, signature);
        Header(text, name);
        text.Append(Severity(doc).ToString(CultureInfo.InvariantCulture)).Append('|');

        var first = true;
        void Ext(string key, string? value)
        {
            if (string.IsNullOrEmpty(value)) return;
            if (!first) text.Append(' ');
            first = false;
            text.Append(key).Append('=');
            Extension(text, value);
        }

        Ext("rt", Millis(doc, EcsFields.Timestamp));
        Ext("externalId", Text(doc, EcsFields.EventId));
        Ext("cat", Joined(doc, EcsFields.EventCategory));
        Ext("act", Text(doc, EcsFields.EventAction));
        Ext("outcome", Text(doc, EcsFields.EventOutcome));
        Ext("src", Text(doc, EcsFields.SourceIp));
        Ext("shost", Text(doc, EcsFields.SourceIp) is null ? Text(doc, EcsFields.SourceAddress) : null);
        Ext("spt", Text(doc, EcsFields.SourcePort));
        Ext("dst", Text(doc, EcsFields.DestinationIp));
        Ext("dpt", Text(doc, EcsFields.DestinationPort));
        Ext("proto", Text(doc, EcsFields.NetworkTransport));
        Ext("suser", Text(doc, EcsFields.UserName));
        Ext("duser", Text(doc, EcsFields.UserTargetName) ?? Text(doc, EcsFields.UserEffectiveName));
        Ext("dvchost", Text(doc, EcsFields.HostName));
        Ext("dvc", Text(doc, EcsFields.HostIp));
        Ext("dproc", Text(doc, EcsFields.ProcessName));
        Ext("dpid", Text(doc, EcsFields.ProcessPid));
        if (record.IsAlert)
        {
            Ext("start", Millis(doc, "event.start"));
            Ext("end", Millis(doc, "event.end"));
            Ext("cnt", Text(doc, "pipeline.alert.count"));
            Ext("cs3Label", "evidence");
            Ext("cs3", Evidence(doc));
        }
        else if (record.Topic is not null)
        {
            Ext("cs3Label", "kafka");
            Ext("cs3", string.Create(CultureInfo.InvariantCulture, $"{record.Topic}/{record.Partition}/{record.Offset}"));
        }
        Ext("cs1Label", "archiveSeq");
        Ext("cs1", record.Seq.ToString(CultureInfo.InvariantCulture));
        Ext("cs2Label", "archiveHash");
        Ext("cs2", record.Hash);
        var message = Text(doc, EcsFields.Message);
        if (message is not null && message.Length > maxMessageChars) message = message[..maxMessageChars];
        // Last, as is customary: free text is the likeliest to hold characters a careless parser trips on.
        Ext("msg", message);
        return text.ToString();
    }

    /// <summary>CEF severity: the rule's, else from the syslog severity, else 3.</summary>
    public static int Severity(JsonElement doc)
    {
        if (Text(doc, EcsFields.EventSeverity) is { } s && int.TryParse(s, CultureInfo.InvariantCulture, out var severity)) return Math.Clamp(severity, 0, 10);
        if (Text(doc, "log.syslog.severity.code") is { } code && int.TryParse(code, CultureInfo.InvariantCulture, out var syslog) && syslog is >= 0 and < 8)
            return CefFromSyslog[syslog];
        return 3;
    }

    public static void Header(StringBuilder text, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': text.Append("\\\\"); break;
                case '|': text.Append("\\|"); break;
                case '\r' or '\n': text.Append(' '); break;
                default: text.Append(c); break;
            }
        }
        text.Append('|');
    }

    public static void Extension(StringBuilder text, string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '\\': text.Append("\\\\"); break;
                case '=': text.Append("\\="); break;
                case '\r' when i + 1 < value.Length && value[i + 1] == '\n':
                    text.Append("\\n");
                    i++;
                    break;
                case '\r': text.Append("\\r"); break;
                case '\n': text.Append("\\n"); break;
                default: text.Append(c); break;
            }
        }
    }

    /// <summary>Reads an escaped extension value back (for tests and tools).</summary>
    public static string Unescape(string value)
    {
        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                var next = value[++i];
                text.Append(next switch { 'n' => '\n', 'r' => '\r', _ => next });
            }
            else
            {
                text.Append(value[i]);
            }
        }
        return text.ToString();
    }

    /// <summary>A field by dotted path, as text (arrays: their first value).</summary>
    public static string? Text(JsonElement doc, string path)
    {
        if (!TryGet(doc, path, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Array => value.GetArrayLength() > 0 ? Text(value[0]) : null,
            _ => null,
        };
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        _ => null,
    };

    private static string? Joined(JsonElement doc, string path) =>
        TryGet(doc, path, out var value) && value.ValueKind == JsonValueKind.Array
            ? string.Join(',', value.EnumerateArray().Select(Text).OfType<string>())
            : Text(doc, path);

    private static string? Evidence(JsonElement doc)
    {
        if (!TryGet(doc, "pipeline.alert.evidence", out var value) || value.ValueKind != JsonValueKind.Array) return null;
        // A SIEM line has a size limit; the full list is in the archived alert.
        var ids = value.EnumerateArray().Select(Text).OfType<string>().ToList();
        return ids.Count <= 50 ? string.Join(',', ids) : string.Join(',', ids.Take(50)) + ",...";
    }

    private static string? Millis(JsonElement doc, string path) =>
        Text(doc, path) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)
            : null;

    public static bool TryGet(JsonElement doc, string path, out JsonElement value)
    {
        value = doc;
        // "@timestamp" and other top-level names have no dots; nested ones are walked.
        foreach (var part in path.Split('.'))
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value)) return false;
        }
        return true;
    }
}
