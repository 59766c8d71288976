using Pipeline.Core.Hosting;
using Pipeline.Kafka.Embedded;
using Pipeline.Kafka.Producing;

namespace Pipeline.Bench;

/// <summary>The processes <c>bench edge</c> compares: the published edge (or a variant of it) and rsyslog doing the same work.</summary>
internal static class EdgePeers
{
    /// <summary>
    /// The peer <c>edge-jit</c>: the same published edge with its ReadyToRun code ignored (<c>DOTNET_ReadyToRun=0</c>),
    /// so every method is compiled by the JIT as before ReadyToRun: what precompiling buys, in the same run.
    /// Any <c>edge+NAME=VALUE[+NAME=VALUE]</c> peer runs the edge with those environment variables (runtime
    /// settings to compare in one run, e.g. <c>edge+DOTNET_TieredPGO=0</c>), and <c>edge@DIR</c> the edge
    /// published into DIR (another build to compare).
    /// </summary>
    public const string JitOnlyEdge = "edge-jit";

    public static bool IsEdge(string peer) => peer is "edge" or JitOnlyEdge || peer.StartsWith("edge+", StringComparison.Ordinal) || peer.StartsWith("edge@", StringComparison.Ordinal);

    public static Dictionary<string, string>? EdgeEnvironment(string peer) =>
        peer == JitOnlyEdge ? new Dictionary<string, string> { ["DOTNET_ReadyToRun"] = "0" }
        : peer.StartsWith("edge+", StringComparison.Ordinal)
            ? peer.Split('+').Skip(1).Select(s => s.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1])
            : null;

    public static BenchProcess StartEdge(string? publishedIn, string root, EmbeddedKafkaCluster kafka, string topic, int port, string work, string[] extra, Dictionary<string, string>? environment)
    {
        // As deployed: the publish every build makes (Directory.Build.targets), unless another is named.
        var dll = Path.Combine(publishedIn ?? Path.Combine(root, "producer", "Pipeline.Edge", "bin", "Release", "net10.0", "linux-x64", "publish"), "Pipeline.Edge.dll");
        // On jemalloc, as `local` and the container image start it, unless the peer names its own LD_PRELOAD (`edge+LD_PRELOAD=`: glibc).
        environment = new Dictionary<string, string>(environment ?? []);
        JemallocPreload.AddTo(environment);
        return BenchProcess.Start("edge", "dotnet", [dll, "--kafka", kafka.BootstrapServers,
            "--syslog-udp", $"127.0.0.1:{port}", "--syslog-tcp", $"127.0.0.1:{port}", "--http", $"127.0.0.1:{port + 1}",
            "--spool", Path.Combine(work, "spool"), "--Edge:Http:AllowAnonymous=true",
            "--Edge:Routes:0:Name=bench", $"--Edge:Routes:0:Topic={topic}", "--Logging:LogLevel:Default=Information", .. extra],
            environment);
    }

    public static BenchProcess StartRsyslog(EmbeddedKafkaCluster kafka, string topic, int port, string work, bool json, int udpReceiveBufferMiB)
    {
        // The same work as the edge: parse the line, render a JSON document, publish it with lz4.
        var brokers = string.Join(",", kafka.BootstrapServers.Split(',').Select(b => $"\"{b}\""));
        var config = Path.Combine(work, "rsyslog.conf");
        File.WriteAllText(config, $$"""
            global(workDirectory="{{work}}" maxMessageSize="64k")
            module(load="imtcp" MaxSessions="200")
            module(load="imudp" threads="2")
            module(load="omkafka")
            module(load="mmjsonparse")
            template(name="envelope" type="list" option.jsonf="on") {
              property(outname="received_at" name="timegenerated" dateFormat="rfc3339" format="jsonf")
              property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
              property(outname="hostname" name="hostname" format="jsonf")
              property(outname="app_name" name="app-name" format="jsonf")
              property(outname="procid" name="procid" format="jsonf")
              property(outname="msgid" name="msgid" format="jsonf")
              property(outname="facility" name="syslogfacility" format="jsonf")
              property(outname="severity" name="syslogseverity" format="jsonf")
              property(outname="message" name="msg" format="jsonf")
              property(outname="raw" name="rawmsg" format="jsonf")
            }
            template(name="json-envelope" type="list") {
              constant(value="{\"received_at\":\"") property(name="timegenerated" dateFormat="rfc3339")
              constant(value="\",\"hostname\":\"") property(name="hostname" format="json")
              constant(value="\",\"app_name\":\"") property(name="app-name" format="json")
              constant(value="\",\"severity\":") property(name="syslogseverity")
              constant(value=",\"message\":\"") property(name="$!msg" format="json")
              constant(value="\",\"payload\":") property(name="$!all-json")
              constant(value="}")
            }
            ruleset(name="tokafka" queue.type="LinkedList" queue.size="2000000" queue.dequeueBatchSize="4096") {
              {{(json ? "action(type=\"mmjsonparse\" cookie=\"@cee:\")" : "")}}
              action(type="omkafka" topic="{{topic}}" broker=[{{brokers}}] template="{{(json ? "json-envelope" : "envelope")}}" partitions.auto="on"
                     confParam=["compression.codec=lz4", "queue.buffering.max.ms={{new ProducerSettings().LingerMs}}", "batch.size=1000000", "queue.buffering.max.messages=1000000"])
            }
            input(type="imtcp" address="127.0.0.1" port="{{port}}" ruleset="tokafka")
            input(type="imudp" address="127.0.0.1" port="{{port}}" ruleset="tokafka" rcvbufSize="{{udpReceiveBufferMiB}}m")
            """);
        return BenchProcess.Start("rsyslog", "rsyslogd", ["-n", "-f", config, "-i", Path.Combine(work, "rsyslogd.pid")]);
    }
}
