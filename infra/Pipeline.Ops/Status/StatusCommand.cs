using System.CommandLine;
using System.Runtime.InteropServices;
using Pipeline.Ops.Cli;

namespace Pipeline.Ops.Status;

/// <summary><c>status</c>: serves the live status page until Ctrl-C.</summary>
internal static class StatusCommand
{
    public const string DefaultBind = "127.0.0.1:9100";

    public static Command Build()
    {
        var http = new Option<string>("--http")
        {
            Description = $"Address the page is served on. Beyond loopback it needs a read token in {StatusServer.TokenVariable}.",
            DefaultValueFactory = _ => DefaultBind,
        };
        var options = new StatusOptions();
        var command = new Command("status", "Serve the live status page (the flow, the loss ledger, lag per group, the noisiest sources, a live tail) until Ctrl-C.") { http };
        options.AddTo(command);
        CommonOptions.SetAction(command, async (parse, io, cancellationToken) =>
        {
            var settings = options.Resolve(parse);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            await using var page = await StatusPage.StartAsync(parse.GetValue(http)!, settings, stop.Token,
                Environment.GetEnvironmentVariable(StatusServer.TokenVariable));
            await io.Error.WriteLineAsync($"status: the page is at {page.Address} (Ctrl-C stops)");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
