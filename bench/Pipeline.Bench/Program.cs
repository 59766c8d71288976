using Pipeline.Bench;

// One-command benchmarks; each subcommand measures one component against a peer in the same run.
return args.FirstOrDefault() switch
{
    "topk" => TopKBench.Run(args[1..]),
    "topk-e2e" => TopKEndToEndBench.Run(args[1..]),
    "noc" => NocBench.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Pipeline.Bench topk [--events N] [--capacity N] [--seed N] [--out FILE]\n       Pipeline.Bench topk-e2e [--events N] [--partitions N] [--batch-size N] [--out FILE]\n       Pipeline.Bench noc [--events N] [--partitions N] [--brokers N] [--batch-sizes 200,5000] [--rounds N] [--out FILE]");
    return 2;
}
