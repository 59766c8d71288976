using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.Consumers.Siem.Detection;

/// <summary>
/// What an alert becomes outside the engine: its id and its ECS document. Kept apart from the windows: it runs once
/// per alert, not per event, and only the sink (to archive and forward) and the rules (for the id) need it.
/// </summary>
internal static class AlertDocument
{
    /// <summary>
    /// A ULID-shaped id (sortable by the alert's event time) whose random part is a hash of rule, group and
    /// evidence: the same alert always gets the same id, so downstream can drop a re-sent copy.
    /// </summary>
    public static string AlertId(string rule, string key, DateTimeOffset time, IReadOnlyList<WindowEntry> evidence)
    {
        var text = new StringBuilder(rule).Append('\n').Append(key);
        foreach (var e in evidence) text.Append('\n').Append(e.Id);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()), digest);
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)Math.Max(0, time.ToUnixTimeMilliseconds()) << 16);
        digest[..10].CopyTo(bytes[6..]);
        return Crockford(bytes);
    }

    private static string Crockford(ReadOnlySpan<byte> b)
    {
        const string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        var hi = BinaryPrimitives.ReadUInt64BigEndian(b);
        var lo = BinaryPrimitives.ReadUInt64BigEndian(b[8..]);
        Span<char> d = stackalloc char[26];
        for (var i = 25; i >= 0; i--)
        {
            d[i] = alphabet[(int)(lo & 31)];
            lo = (lo >> 5) | (hi << 59);
            hi >>= 5;
        }
        return new string(d);
    }

    /// <summary>The ECS document of an alert, as archived and forwarded.</summary>
    public static EcsDocument Of(Alert alert, DateTimeOffset ingested)
    {
        var rule = alert.Rule;
        var doc = new EcsDocument();
        doc.Set(EcsFields.Timestamp, alert.Time);
        doc.Set(EcsFields.EventId, alert.Id);
        doc.Set(EcsFields.EventKind, "alert");
        doc.Set(EcsFields.EventCategory, new[] { "intrusion_detection" });
        doc.Set(EcsFields.EventType, new[] { "indicator" });
        doc.Set(EcsFields.EventAction, rule.Name);
        doc.Set(EcsFields.EventCode, rule.Name);
        doc.Set(EcsFields.EventSeverity, (long)rule.Severity);
        doc.Set(EcsFields.EventCreated, ingested);
        doc.Set(EcsFields.EventIngested, ingested);
        doc.Set("event.start", alert.Evidence[0].Time);
        doc.Set("event.end", alert.Evidence[^1].Time);
        doc.Set("rule.name", rule.Name);
        doc.Set("rule.description", rule.Description);
        doc.Set("rule.ruleset", "pipeline-detection");
        doc.Set(EcsFields.Message, string.Create(CultureInfo.InvariantCulture,
            $"{(rule.Description.Length > 0 ? rule.Description : rule.Name)}: {alert.Evidence.Count} events with {rule.GroupBy}={alert.Key} within {rule.Window}"));
        if (rule.GroupBy is EcsFields.SourceIp or EcsFields.DestinationIp or EcsFields.HostIp)
        {
            if (IPAddress.TryParse(alert.Key, out var ip))
            {
                doc.Set(rule.GroupBy, rule.GroupBy == EcsFields.HostIp ? new[] { ip.ToString() } : ip.ToString());
                doc.Set("related.ip", new[] { ip.ToString() });
            }
        }
        else if (rule.GroupBy.StartsWith("user.", StringComparison.Ordinal))
        {
            doc.Set(rule.GroupBy, alert.Key);
            doc.Set("related.user", new[] { alert.Key });
        }
        doc.Set("pipeline.alert.group_by", rule.GroupBy);
        doc.Set("pipeline.alert.group_value", alert.Key);
        doc.Set("pipeline.alert.threshold", (long)rule.Threshold);
        doc.Set("pipeline.alert.window_seconds", rule.Window.TotalSeconds);
        doc.Set("pipeline.alert.count", (long)alert.Evidence.Count);
        doc.Set("pipeline.alert.evidence", alert.Evidence.Select(e => e.Id).ToArray());
        return doc;
    }
}
