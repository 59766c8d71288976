using System.CommandLine;
using Confluent.Kafka;
using Pipeline.Ops.Lag;
using Pipeline.Ops.Local;
using Pipeline.Ops.Replay;
using Pipeline.Ops.Reset;
using Pipeline.Ops.Tail;
using Pipeline.Ops.Topics;

namespace Pipeline.Ops.Cli;

/// <summary>The operator's command line: <c>local</c>, <c>topics apply</c>, <c>lag</c>, <c>reset</c>, <c>replay</c>, <c>tail</c>.</summary>
internal static class OpsCommandLine
{
    public static RootCommand Build(OpsSeams seams)
    {
        var root = new RootCommand("Operator commands of the telemetry pipeline. Exit codes: 0 done, 1 needs attention " +
            "(lag over the threshold, drift with --fail-on-drift, a replay that did not finish), 2 bad input or configuration, 3 refused as unsafe, 4 failed unexpectedly.");
        root.Subcommands.Add(LocalCommand.Build());
        root.Subcommands.Add(TopicsCommand.Build(seams));
        root.Subcommands.Add(LagCommand.Build(seams));
        root.Subcommands.Add(ResetCommand.Build(seams));
        root.Subcommands.Add(ReplayCommand.Build(seams));
        root.Subcommands.Add(TailCommand.Build(seams));
        root.Subcommands.Add(Status.StatusCommand.Build());
        root.Subcommands.Add(Top.TopCommand.Build());
        return root;
    }

    /// <summary>Parses and runs; a command line that does not parse is a usage error (exit code 2), not 1.</summary>
    public static async Task<int> RunAsync(string[] args, OpsSeams seams, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var parse = Build(seams).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) await error.WriteLineAsync($"error: {problem.Message}");
            await error.WriteLineAsync("(--help lists the options)");
            return ExitCodes.Usage;
        }
        // Commands that must finish something on Ctrl-C (local, replay, tail) handle the signal themselves;
        // the library's handler would end the process two seconds later, in the middle of that.
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, cancellationToken);
    }
}

/// <summary>Where a command writes: results to <see cref="Out"/>, progress and problems to <see cref="Error"/>.</summary>
internal sealed record CommandIO(TextWriter Out, TextWriter Error);

/// <summary>Options several commands share, and the wrapper that turns failures into exit codes.</summary>
internal static class CommonOptions
{
    public static Option<string?> Kafka() => new("--kafka") { Description = "Bootstrap servers (default: Kafka__BootstrapServers, then KAFKA_BOOTSTRAP_SERVERS)." };

    public static Option<string?> Postgres() => new("--postgres") { Description = "Npgsql connection string of the sink's database (default: PIPELINE_POSTGRES)." };

    public static Option<string> Topics() => new("--topics") { Description = "Topics, comma-separated.", DefaultValueFactory = _ => "syslog,events,metrics" };

    public static IReadOnlyList<string> SplitList(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();

    /// <summary>The Postgres connection string from the option or <c>PIPELINE_POSTGRES</c>; a usage error when neither is there.</summary>
    public static string RequirePostgres(string? option, string why) =>
        !string.IsNullOrWhiteSpace(option) ? option
        : Environment.GetEnvironmentVariable("PIPELINE_POSTGRES") is { Length: > 0 } fromEnvironment ? fromEnvironment
        : throw new UsageException($"{why} needs a database: pass --postgres or set PIPELINE_POSTGRES (`source .pipeline/local.env` for a local run)");

    /// <summary>Runs a command body; usage errors exit 2 and refusals 3, each with one line saying why.</summary>
    public static void SetAction(Command command, Func<ParseResult, CommandIO, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            var io = new CommandIO(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            try
            {
                return await body(parse, io, cancellationToken);
            }
            catch (UsageException ex)
            {
                await io.Error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (InvalidDataException ex)
            {
                await io.Error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (RefusedException ex)
            {
                await io.Error.WriteLineAsync($"refused: {ex.Message}");
                return ExitCodes.Refused;
            }
            catch (KafkaException ex)
            {
                await io.Error.WriteLineAsync($"failed: Kafka: {ex.Error.Reason} ({ex.Error.Code})");
                return ExitCodes.Failed;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Not 1: scripts read 1 as "needs attention" (lag over the threshold), which this is not.
                await io.Error.WriteLineAsync($"failed: {ex}");
                return ExitCodes.Failed;
            }
        });
}
