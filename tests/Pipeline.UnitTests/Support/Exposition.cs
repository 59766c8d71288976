using System.Text;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.UnitTests.Support;

/// <summary>A parsed sample with its text materialised, for assertions.</summary>
internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value, long? TimestampMs, MetricType Type, bool Cumulative, string Series);

/// <summary>Parses text with <see cref="ExpositionParser"/> and reads the results back as plain values.</summary>
internal static class Exposition
{
    public static string DataPath(string file) => Path.Combine(AppContext.BaseDirectory, "Data", "Exposition", file);

    public static (List<Sample> Samples, ExpositionError? Error) Parse(string text, ExpositionFormat format = ExpositionFormat.PrometheusText, int sampleLimit = 1_000_000) =>
        Parse(Encoding.UTF8.GetBytes(text), format, sampleLimit);

    public static (List<Sample> Samples, ExpositionError? Error) Parse(byte[] body, ExpositionFormat format = ExpositionFormat.PrometheusText, int sampleLimit = 1_000_000)
    {
        using var parsed = new ParsedExposition();
        var error = ExpositionParser.Parse(body, format, sampleLimit, parsed);
        return (error is null ? Read(body, parsed) : [], error);
    }

    public static List<Sample> Read(ReadOnlySpan<byte> body, ParsedExposition parsed)
    {
        var samples = new List<Sample>();
        foreach (var s in parsed.Samples)
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            var reader = new LabelReader(s.Labels.Of(body));
            while (reader.Next(out var name, out var nameEscaped, out var value, out var valueEscaped))
                labels[Text(name, nameEscaped)] = Text(value, valueEscaped);
            var type = s.Family >= 0 ? parsed.Families[s.Family].Type : parsed.UntypedAs;
            samples.Add(new Sample(Text(s.Name.Of(body), s.NameEscaped), labels, s.Value, s.HasTimestamp ? s.TimestampMs : null, type, s.Cumulative,
                Encoding.UTF8.GetString(s.Series.Of(body))));
        }
        return samples;
    }

    public static string Text(ReadOnlySpan<byte> raw, bool escaped)
    {
        if (!escaped) return Encoding.UTF8.GetString(raw);
        var into = new byte[raw.Length];
        return Encoding.UTF8.GetString(into, 0, LabelReader.Unescape(raw, into));
    }
}
