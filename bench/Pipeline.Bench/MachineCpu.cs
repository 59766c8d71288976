using System.Globalization;

namespace Pipeline.Bench;

/// <summary>
/// Machine-wide CPU time from /proc/stat (jiffies), to show how much of the two cores a contender used: the
/// database server and psql are other processes, so this process's own CPU time would miss them.
/// </summary>
internal readonly record struct MachineCpu(long BusyJiffies, long TotalJiffies)
{
    /// <summary>The share of all cores' time spent outside idle (and I/O wait).</summary>
    public double Busy => TotalJiffies == 0 ? 0 : (double)BusyJiffies / TotalJiffies;

    public static MachineCpu Now()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
        var total = fields.Sum();
        return new MachineCpu(total - idle, total);
    }

    public static MachineCpu operator -(MachineCpu a, MachineCpu b) => new(a.BusyJiffies - b.BusyJiffies, a.TotalJiffies - b.TotalJiffies);
}
