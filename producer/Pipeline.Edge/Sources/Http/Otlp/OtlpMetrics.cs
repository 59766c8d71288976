using System.Globalization;
using Pipeline.Core.Metrics;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// The OTLP endpoints' own counters, in one place (the loss ledger counts each accepted record like any event):
/// requests by signal, encoding and status code, and log records by what became of them.
/// </summary>
internal sealed class OtlpMetrics
{
    private const string RequestsName = "edge_otlp_requests_total";
    private const string RequestsHelp = "OTLP/HTTP export requests, by signal (logs, metrics, traces), encoding (protobuf, json, other) and HTTP status code.";
    private const string RecordsHelp = "OTLP log records in export requests, by outcome (accepted, sampled_out, shed, rejected; rejected ones are in partial_success).";

    private readonly MetricsRegistry _registry;
    private readonly Counter _accepted;
    private readonly Counter _sampledOut;
    private readonly Counter _shed;
    private readonly Counter _rejected;

    public OtlpMetrics(MetricsRegistry registry)
    {
        _registry = registry;
        _accepted = registry.Counter("edge_otlp_log_records_total", RecordsHelp, ("outcome", "accepted"));
        _sampledOut = registry.Counter("edge_otlp_log_records_total", RecordsHelp, ("outcome", "sampled_out"));
        _shed = registry.Counter("edge_otlp_log_records_total", RecordsHelp, ("outcome", "shed"));
        _rejected = registry.Counter("edge_otlp_log_records_total", RecordsHelp, ("outcome", "rejected"));
    }

    public void Request(string signal, string encoding, int status) =>
        _registry.Counter(RequestsName, RequestsHelp, ("signal", signal), ("encoding", encoding), ("code", status.ToString(CultureInfo.InvariantCulture))).Inc();

    public void Records(OtlpExportResult result)
    {
        _accepted.Inc(result.Accepted);
        _sampledOut.Inc(result.SampledOut);
        _shed.Inc(result.Shed);
        _rejected.Inc(result.Rejected);
    }
}
