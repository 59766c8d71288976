using System.Globalization;
using System.Text;

namespace Pipeline.Bench;

/// <summary>The scrape bench's exposition: Prometheus text of a chosen number of series.</summary>
internal static class SyntheticExposition
{
    /// <summary>
    /// An exposition shaped like real exporters': 200 families of 500 series each, counters, gauges, histograms
    /// (buckets, sum, count) and summaries, with HELP and TYPE, two to four labels per series.
    /// </summary>
    public static byte[] Build(int series)
    {
        var text = new StringBuilder(series * 100);
        var written = 0;
        for (var family = 0; written < series; family++)
        {
            var kind = family % 4;
            var name = kind switch
            {
                0 => $"bench_network_receive_bytes_{family}_total",
                1 => $"bench_filesystem_avail_bytes_{family}",
                2 => $"bench_request_duration_{family}_seconds",
                _ => $"bench_rpc_latency_{family}_seconds",
            };
            text.Append("# HELP ").Append(name).Append(" A family of the benchmark exposition.\n");
            text.Append("# TYPE ").Append(name).Append(' ').Append(kind switch { 0 => "counter", 1 => "gauge", 2 => "histogram", _ => "summary" }).Append('\n');
            for (var i = 0; i < 500 && written < series; i++)
            {
                var labels = $"host=\"host-{i % 50}\",device=\"dev{i}\"";
                switch (kind)
                {
                    case 0:
                    case 1:
                        text.Append(name).Append('{').Append(labels).Append("} ").Append((i * 7919L + family).ToString(CultureInfo.InvariantCulture)).Append('\n');
                        written++;
                        break;
                    case 2:
                        foreach (var le in (string[])["0.005", "0.05", "0.5", "5", "+Inf"])
                        {
                            text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"").Append(le).Append("\"} ").Append(i * 3).Append('\n');
                            written++;
                        }
                        text.Append(name).Append("_sum{").Append(labels).Append("} ").Append((i * 0.25).ToString(CultureInfo.InvariantCulture)).Append('\n');
                        text.Append(name).Append("_count{").Append(labels).Append("} ").Append(i * 3).Append('\n');
                        written += 2;
                        i += 6;
                        break;
                    default:
                        foreach (var q in (string[])["0.5", "0.9", "0.99"])
                        {
                            text.Append(name).Append('{').Append(labels).Append(",quantile=\"").Append(q).Append("\"} ").Append((i * 0.001).ToString(CultureInfo.InvariantCulture)).Append('\n');
                            written++;
                        }
                        text.Append(name).Append("_sum{").Append(labels).Append("} ").Append((i * 1.5).ToString(CultureInfo.InvariantCulture)).Append('\n');
                        text.Append(name).Append("_count{").Append(labels).Append("} ").Append(i).Append('\n');
                        written += 2;
                        i += 4;
                        break;
                }
            }
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
