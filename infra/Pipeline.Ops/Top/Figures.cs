using System.Globalization;

namespace Pipeline.Ops.Top;

/// <summary>How <c>ops top</c> writes numbers: short, aligned, and "-" for what is not known (never a made-up zero).</summary>
internal static class Figures
{
    public static string Count(double? value) => value switch
    {
        null => "-",
        >= 1e9 => (value.Value / 1e9).ToString("0.0", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (value.Value / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + "M",
        >= 1e4 => (value.Value / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "k",
        _ => value.Value.ToString("0", CultureInfo.InvariantCulture),
    };

    public static string Rate(double? perSecond) => perSecond switch
    {
        null => "-",
        < 10 and > 0 => perSecond.Value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => Count(perSecond),
    };

    public static string Seconds(double? seconds) => seconds switch
    {
        null => "-",
        < 1 => (seconds.Value * 1000).ToString("0", CultureInfo.InvariantCulture) + "ms",
        < 60 => seconds.Value.ToString("0.0", CultureInfo.InvariantCulture) + "s",
        < 3600 => $"{(int)(seconds.Value / 60)}m{(int)(seconds.Value % 60):00}s",
        _ => $"{(int)(seconds.Value / 3600)}h{(int)(seconds.Value % 3600 / 60):00}m",
    };

    public static string Bytes(double? bytes) => bytes switch
    {
        null => "-",
        >= 1 << 30 => (bytes.Value / (1 << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1 << 20 => (bytes.Value / (1 << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1 << 10 => (bytes.Value / (1 << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.Value.ToString("0", CultureInfo.InvariantCulture) + " B",
    };

    public static string Percent(double? fraction) => fraction is { } f ? (f * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";
}
