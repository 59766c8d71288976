using System.Diagnostics.Metrics;
using System.Globalization;
using Pipeline.Core.Metrics;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// The OTLP endpoints' own counters, in one place (the loss ledger counts each accepted record like any event):
/// requests by signal, encoding and status code, and log records by what became of them.
/// </summary>
internal sealed class OtlpMetrics
{
    private readonly CounterFamily _requests;
    private readonly CounterCell _accepted;
    private readonly CounterCell _sampledOut;
    private readonly CounterCell _shed;
    private readonly CounterCell _rejected;

    public OtlpMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(EdgeMetrics.MeterName);
        _requests = new CounterFamily(meter, "edge_otlp_requests_total",
            "OTLP/HTTP export requests, by signal (logs, metrics, traces), encoding (protobuf, json, other) and HTTP status code.");
        var records = new CounterFamily(meter, "edge_otlp_log_records_total",
            "OTLP log records in export requests, by outcome (accepted, sampled_out, shed, rejected; rejected ones are in partial_success).");
        _accepted = records.For(("outcome", "accepted"));
        _sampledOut = records.For(("outcome", "sampled_out"));
        _shed = records.For(("outcome", "shed"));
        _rejected = records.For(("outcome", "rejected"));
    }

    public void Request(string signal, string encoding, int status) =>
        _requests.For(("signal", signal), ("encoding", encoding), ("code", status.ToString(CultureInfo.InvariantCulture))).Inc();

    public void Records(OtlpExportResult result)
    {
        _accepted.Inc(result.Accepted);
        _sampledOut.Inc(result.SampledOut);
        _shed.Inc(result.Shed);
        _rejected.Inc(result.Rejected);
    }
}
