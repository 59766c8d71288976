using Pipeline.Bench;

// One-command benchmarks; each subcommand measures one component against a peer in the same run.
return args.FirstOrDefault() switch
{
    "topk" => TopKBench.Run(args[1..]),
    "topk-e2e" => TopKEndToEndBench.Run(args[1..]),
    "edge" => await EdgeBench.RunAsync(args[1..]),
    "noc" => NocBench.Run(args[1..]),
    "siem" => SiemBench.Run(args[1..]),
    "parse" => ParseBench.Run(args[1..]),
    "restart" => RestartBench.Run(args[1..]),
    "client" => await ClientBench.RunAsync(args[1..]),
    "scrape" => await ScrapeBench.RunAsync(args[1..]),
    "e2e" => await FreshnessBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Pipeline.Bench topk [--events N] [--capacity N] [--seed N] [--stage-events N] [--out FILE]
               Pipeline.Bench topk-e2e [--events N] [--partitions N] [--batch-size N] [--checkpoint-intervals 1,5,0] [--out FILE]
               Pipeline.Bench edge [--tcp-messages N] [--connections N] [--udp-rates 50000,100000,0|none] [--udp-seconds N] [--http-events N] [--warmup 1] [--peers edge,rsyslog] [--udp-rcvbuf-mib 32] [--udp-queue-mib N] [--edge-dll PATH] [--loads tcp,udp,http,otlp] [--out FILE]
                      (--udp-rates none and --http-events 0 leave those scenarios out; a peer edge@DIR runs the edge published in DIR)
               Pipeline.Bench parse [--lines N] [--rounds N]
               Pipeline.Bench client [--iterations 15] [--rate 20000] [--phase-seconds 5] [--out FILE]
               Pipeline.Bench scrape [--series N] [--rounds N] [--out FILE]
               Pipeline.Bench noc [--events N] [--partitions N] [--brokers N] [--batch-sizes 200,5000] [--write-connections 2] [--rounds N] [--out FILE]
               Pipeline.Bench siem [--events N] [--partitions N] [--brokers 1] [--batch-size 5000] [--rounds 2] [--contenders siem,limit,noc|none] [--out FILE]
               Pipeline.Bench restart [--rate 10000] [--seconds 55] [--partitions 12] [--scenarios steady,crash,rolling] [--variants 0,1,2,3,4] [--logs DIR] [--out FILE]
               Pipeline.Bench e2e [--rates 1000,10000,30000] [--ladder] [--seconds 60] [--steady-after 30] [--partitions 12] [--brokers 3] [--edge-args "..."] [--worker-args "..."] [--env "K=V ..."] [--start-when edge|assigned] [--out FILE]
        """);
    return 2;
}
