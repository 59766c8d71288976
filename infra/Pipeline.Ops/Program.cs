using Pipeline.Ops.Cli;

// Pipeline.Ops: the operator's commands (local, embedded-kafka, topics apply, lag, reset, replay, tail).
return await OpsCommandLine.RunAsync(args, new OpsSeams(), Console.Out, Console.Error);
