using System.CommandLine;

namespace Pipeline.Ops.Local;

/// <summary><c>local</c>: the whole pipeline on this machine on an embedded Kafka cluster.</summary>
internal static class LocalCommand
{
    public static Command Build()
    {
        var postgres = new Option<string>("--postgres") { Description = "Npgsql connection string of the database the sinks write to.", Required = true };
        var brokers = new Option<int>("--brokers") { Description = "Embedded Kafka brokers.", DefaultValueFactory = _ => 3 };
        var bind = new Option<string>("--bind") { Description = "Address the edge listens on.", DefaultValueFactory = _ => "127.0.0.1" };
        var syslogPort = new Option<int>("--syslog-port") { Description = "Syslog port (UDP and TCP).", DefaultValueFactory = _ => 5514 };
        var httpPort = new Option<int>("--http-port") { Description = "Edge HTTP port (events, /metrics, /healthz).", DefaultValueFactory = _ => 8080 };
        var otlpPort = new Option<int>("--otlp-port") { Description = "Edge OTLP/HTTP port (POST /v1/logs); 0 turns it off.", DefaultValueFactory = _ => 4318 };
        var state = new Option<string>("--state-dir") { Description = "Where local state and local.env go.", DefaultValueFactory = _ => ".pipeline" };
        var status = new Option<string>("--status-http") { Description = "Address of the status page (ops status); off to serve none.", DefaultValueFactory = _ => Status.StatusCommand.DefaultBind };
        var workers = new Option<string>("--workers") { Description = "Workers to start, comma-separated.", DefaultValueFactory = _ => string.Join(",", LocalPipeline.KnownWorkers.Select(w => w.Name)) };
        var workerPortBase = new Option<int>("--worker-port-base") { Description = "Port of the first worker's /metrics and /healthz; the others take the next ones, in the order " + string.Join(", ", LocalPipeline.KnownWorkers.Select(w => w.Name)) + " (to run beside another local pipeline).", DefaultValueFactory = _ => LocalPipeline.KnownWorkers[0].MetricsPort };
        var command = new Command("local", "Run the whole pipeline on this machine on an embedded Kafka cluster, until Ctrl-C.")
        {
            postgres, brokers, bind, syslogPort, httpPort, otlpPort, state, workers, status, workerPortBase,
        };
        command.SetAction((parse, cancellationToken) => LocalPipeline.RunAsync(new LocalSettings(
            parse.GetValue(postgres)!, parse.GetValue(brokers), parse.GetValue(bind)!, parse.GetValue(syslogPort), parse.GetValue(httpPort),
            Path.GetFullPath(parse.GetValue(state)!), parse.GetValue(workers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            parse.GetValue(status)!.Equals("off", StringComparison.OrdinalIgnoreCase) ? null : parse.GetValue(status), parse.GetValue(otlpPort),
            parse.GetValue(workerPortBase)),
            cancellationToken));
        return command;
    }
}
