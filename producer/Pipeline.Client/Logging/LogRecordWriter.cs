using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Client.Encoding;
using static Pipeline.Client.Encoding.EventWriter;

namespace Pipeline.Client.Logging;

/// <summary>
/// A log entry as an event: <c>level</c> (the edge routes on it), <c>category</c>, <c>event_id</c>/<c>event_name</c>,
/// <c>message</c> (formatted), <c>message_template</c>, <c>exception</c>, and <c>fields</c>: the structured state's
/// values, then those of the scopes active at the call (the innermost first; a name already written is not written
/// again). Scopes that are not name/value pairs are kept as text in <c>scopes</c>.
/// </summary>
internal static class LogRecordWriter
{
    private const string OriginalFormat = "{OriginalFormat}";

    public static void Write<TState>(EventWriter writer, Utf8JsonWriter w, string category, LogLevel level, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter, IReadOnlyList<object?> scopes)
    {
        w.WriteString(Names.Level, LevelName(level));
        w.WriteString(Names.Category, category);
        if (eventId.Id != 0) w.WriteNumber(Names.EventId, eventId.Id);
        if (eventId.Name is { } name) w.WriteString(Names.EventName, name);
        w.WriteString(Names.Message, formatter(state, exception));
        var pairs = state as IReadOnlyList<KeyValuePair<string, object?>>;
        if (pairs is { Count: > 0 } && pairs[^1] is { Key: OriginalFormat, Value: string template }) w.WriteString(Names.MessageTemplate, template);
        if (exception is not null)
        {
            w.WriteStartObject(Names.Exception);
            w.WriteString(Names.Type, exception.GetType().FullName);
            w.WriteString(Names.Message, exception.Message);
            w.WriteString(Names.Detail, exception.ToString());
            w.WriteEndObject();
        }

        writer.BeginFields();
        if (pairs is not null)
        {
            for (var i = 0; i < pairs.Count; i++)
                if (pairs[i].Key != OriginalFormat) writer.Field(pairs[i].Key, pairs[i].Value);
        }
        else if (state is IEnumerable<KeyValuePair<string, object?>> enumerable)
        {
            foreach (var (key, value) in enumerable)
                if (key != OriginalFormat) writer.Field(key, value);
        }
        // Given outermost first; the innermost is the most specific, so it goes first and wins.
        for (var i = scopes.Count - 1; i >= 0; i--)
        {
            if (scopes[i] is not IEnumerable<KeyValuePair<string, object?>> scopePairs) continue;
            foreach (var (key, value) in scopePairs)
                if (key != OriginalFormat) writer.Field(key, value);
        }
        writer.EndFields();

        var textScopes = false;
        foreach (var scope in scopes)
        {
            if (scope is null or IEnumerable<KeyValuePair<string, object?>>) continue;
            if (!textScopes)
            {
                w.WriteStartArray(Names.Scopes);
                textScopes = true;
            }
            w.WriteStringValue(scope.ToString());
        }
        if (textScopes) w.WriteEndArray();
    }

    /// <summary>Level names the edge reads as syslog severities (trace/debug 7, info 6, warning 4, error 3, critical 2).</summary>
    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };
}
