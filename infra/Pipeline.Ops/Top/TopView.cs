using Pipeline.Ops.Status;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Pipeline.Ops.Top;

/// <summary>
/// One frame of <c>ops top</c>: the numbers of the status page as terminal tables — processes, the edge's
/// intake and loss ledger, topics, groups and the noisiest hosts. A pure function of a snapshot, so it is
/// tested by rendering it.
/// </summary>
internal static class TopView
{
    public static IRenderable Build(StatusSnapshot s, NoisiestStatus? noisiest)
    {
        var parts = new List<IRenderable>
        {
            new Markup($"[bold]pipeline[/]  {s.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z   kafka {State(s.Kafka.Up ? "up" : "down")} {Markup.Escape(s.Kafka.Bootstrap)}" +
                (s.Kafka.Error is { } e ? $"  [red]{Markup.Escape(e)}[/]" : "") + "   [grey](q quits)[/]"),
            Processes(s),
        };
        if (s.Edge is { } edge) parts.Add(Edge(edge));
        parts.Add(Topics(s));
        parts.Add(Groups(s));
        if (noisiest is not null) parts.Add(Noisiest(noisiest));
        return new Rows(parts);
    }

    private static Table Processes(StatusSnapshot s)
    {
        var table = Titled("processes", "NAME", "STATE", "GROUP", "URL", "DETAIL");
        foreach (var p in s.Processes)
            table.AddRow(Markup.Escape(p.Name), State(p.State), Markup.Escape(p.Group ?? "-"), Markup.Escape(p.Url), Markup.Escape(p.Detail ?? ""));
        return table;
    }

    private static IRenderable Edge(EdgeStatus edge)
    {
        if (!edge.Up) return new Markup($"[bold]edge[/] {State("down")}");
        var table = Titled("edge", "LISTENER", "RECEIVED", "RECEIVED/S", "PUBLISHED/S", "DROPPED/S");
        foreach (var l in edge.Listeners)
            table.AddRow(Markup.Escape(l.Name), Figures.Count(l.ReceivedTotal), Figures.Rate(l.ReceivedPerSecond), Figures.Rate(l.PublishedPerSecond), Figures.Rate(l.DroppedPerSecond));
        table.AddRow("[bold]all[/]", Figures.Count(edge.ReceivedTotal), Figures.Rate(edge.ReceivedPerSecond), Figures.Rate(edge.PublishedPerSecond), Figures.Rate(edge.DroppedPerSecond));
        var ledger = Titled("loss ledger", "DROPPED BECAUSE", "TOTAL", "PER S");
        foreach (var d in edge.Drops)
            ledger.AddRow(Markup.Escape(d.Reason), d.Total > 0 ? $"[red]{Figures.Count(d.Total)}[/]" : "0", Figures.Rate(d.PerSecond));
        var buffers = new Markup(
            $"pending  memory {Figures.Count(edge.PendingMemory)}  spool {Figures.Count(edge.PendingSpool)}   " +
            $"spool {Figures.Bytes(edge.SpoolBytes)} of {Figures.Bytes(edge.SpoolMaxBytes)} ({Figures.Percent(edge.SpoolFill)})   parse failures {Figures.Count(edge.ParseFailedTotal)}");
        return new Rows(new Columns(table, ledger) { Expand = false }, buffers);
    }

    private static Table Topics(StatusSnapshot s)
    {
        var table = Titled("topics", "TOPIC", "PARTITIONS", "RECORDS", "END", "IN/S");
        foreach (var t in s.Topics)
            table.AddRow(Markup.Escape(t.Name), t.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture), Figures.Count(t.Records), Figures.Count(t.EndOffset), Figures.Rate(t.PerSecond));
        return table;
    }

    private static Table Groups(StatusSnapshot s)
    {
        var table = Titled("consumer groups", "GROUP", "STATE", "LAG", "LAG TIME", "CLOSING/S", "WRITTEN/S", "FRESH p50", "FRESH p99", "DLQ", "PROBLEM");
        foreach (var g in s.Groups)
            table.AddRow(Markup.Escape(g.Group), State(g.State), Figures.Count(g.LagMessages), Figures.Seconds(g.LagSeconds), Figures.Rate(g.ClosingPerSecond),
                Figures.Rate(g.WrittenPerSecond), Figures.Seconds(g.FreshnessP50Seconds), Figures.Seconds(g.FreshnessP99Seconds),
                g.DeadLettered is > 0 ? $"[red]{Figures.Count(g.DeadLettered)}[/]" : Figures.Count(g.DeadLettered), Markup.Escape(g.Problem ?? ""));
        return table;
    }

    private static IRenderable Noisiest(NoisiestStatus noisiest)
    {
        if (!noisiest.Up) return new Markup($"[bold]noisiest now[/] [yellow]{Markup.Escape(noisiest.Error ?? "not answering")}[/]");
        var hosts = noisiest.Dimensions.FirstOrDefault(d => d.Dimension == "host");
        if (hosts is null || hosts.Top.Count == 0) return new Markup($"[bold]noisiest hosts ({noisiest.Window})[/] none yet");
        var chart = new BarChart { Width = 60, Label = $"[bold]noisiest hosts ({noisiest.Window})[/]", LabelAlignment = Justify.Left };
        foreach (var entry in hosts.Top.Take(5)) chart.AddItem(Markup.Escape(entry.Key), Math.Round(entry.Count), Color.Orange1);
        return chart;
    }

    private static Table Titled(string title, params string[] columns)
    {
        var table = new Table { Border = TableBorder.Simple, Title = new TableTitle(title, new Style(decoration: Decoration.Bold)) };
        foreach (var column in columns) table.AddColumn(new TableColumn(column) { NoWrap = column is "NAME" or "GROUP" or "TOPIC" or "LISTENER" });
        return table;
    }

    private static string State(string state) => state switch
    {
        "up" => "[green]up[/]",
        "failing" => "[yellow]FAILING[/]",
        _ => "[red]DOWN[/]",
    };
}
