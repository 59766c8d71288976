using System.Globalization;
using System.Text;
using Npgsql;

namespace Pipeline.Bench;

/// <summary>
/// The start of a freshness run second by second, exact from the NOC table: for events the edge received in each of
/// the first seconds after sending began, how many, and how long until their transaction (<c>inserted_at −
/// received_at</c>). It shows where a cold start's build-up comes from: the time before the first write, then how
/// fast the backlog drains.
/// </summary>
internal static class NocStartup
{
    public sealed record Second(int At, long Rows, double P50, double Max);

    public sealed record Timeline(double FirstWriteSeconds, IReadOnlyList<Second> Seconds);

    public static Timeline Read(string postgres, DateTimeOffset startedAt, int seconds)
    {
        using var connection = new NpgsqlConnection(postgres);
        connection.Open();
        using var first = new NpgsqlCommand("select coalesce(extract(epoch from min(inserted_at) - $1)::float8, 'NaN') from events", connection);
        first.Parameters.AddWithValue(startedAt.UtcDateTime);
        var firstWrite = (double)first.ExecuteScalar()!;
        using var command = new NpgsqlCommand("""
            select s, count(*), percentile_cont(0.5) within group (order by f), max(f)
            from (select floor(extract(epoch from received_at - $1))::int as s, extract(epoch from inserted_at - received_at)::float8 as f
                  from events where received_at >= $1 and received_at < $1 + make_interval(secs => $2)) t
            group by s order by s
            """, connection);
        command.Parameters.AddWithValue(startedAt.UtcDateTime);
        command.Parameters.AddWithValue((double)seconds);
        using var reader = command.ExecuteReader();
        var rows = new List<Second>();
        while (reader.Read()) rows.Add(new Second(reader.GetInt32(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetDouble(3)));
        return new Timeline(firstWrite, rows);
    }

    /// <summary>One table for all rates: a row per second, a column pair per rate.</summary>
    public static void Append(StringBuilder text, IReadOnlyList<(int Rate, Timeline Timeline)> runs)
    {
        var c = CultureInfo.InvariantCulture;
        text.AppendLine("Start-up, exact from the NOC table: events received in each second after sending began, and how long until their row was written (p50 / max s).");
        text.AppendLine(c, $"First NOC row written after sending began: {string.Join(", ", runs.Select(r => string.Create(c, $"{r.Timeline.FirstWriteSeconds:F2} s at {r.Rate:N0}/s")))}.");
        text.AppendLine();
        text.AppendLine("| second | " + string.Join(" | ", runs.Select(r => string.Create(c, $"{r.Rate:N0}/s p50 / max s"))) + " |");
        text.AppendLine("|---:|" + string.Concat(runs.Select(_ => "---:|")));
        var seconds = runs.SelectMany(r => r.Timeline.Seconds.Select(s => s.At)).Distinct().Order();
        foreach (var at in seconds)
        {
            var cells = runs.Select(r => r.Timeline.Seconds.FirstOrDefault(s => s.At == at) is { } s ? string.Create(c, $"{s.P50:F2} / {s.Max:F2}") : "");
            text.AppendLine(c, $"| {at} | {string.Join(" | ", cells)} |");
        }
        text.AppendLine();
    }
}
