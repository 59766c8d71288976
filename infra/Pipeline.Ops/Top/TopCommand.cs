using System.CommandLine;
using System.Runtime.InteropServices;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Status;
using Spectre.Console;

namespace Pipeline.Ops.Top;

/// <summary><c>top</c>: the status page's numbers in a terminal, refreshed every interval, for SSH sessions. q or Ctrl-C quits.</summary>
internal static class TopCommand
{
    public static Command Build()
    {
        var once = new Option<bool>("--once") { Description = "Print one frame (two readings an interval apart, so rates show) and exit, instead of refreshing until q or Ctrl-C." };
        var options = new StatusOptions();
        var command = new Command("top", "The pipeline's live numbers in the terminal: processes, the edge's intake and drops, topics, lag per group, the noisiest hosts. q or Ctrl-C quits.") { once };
        options.AddTo(command);
        CommonOptions.SetAction(command, async (parse, io, cancellationToken) =>
        {
            var settings = options.Resolve(parse);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var http = new HttpClient { Timeout = settings.ProcessTimeout };
            await using var sampler = new StatusSampler(settings, http, TimeProvider.System);
            var noisiest = new NoisiestProbe(http, settings.TopK, TimeProvider.System, settings.Interval);
            // On a terminal: colours and the terminal's width. Written to a file or a pipe: plain text, wide enough for the tables.
            var terminal = ReferenceEquals(io.Out, Console.Out) && !Console.IsOutputRedirected;
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(io.Out),
                Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            });
            if (!terminal) console.Profile.Width = 160;
            if (parse.GetValue(once))
            {
                await sampler.SampleAsync(stop.Token);
                await Task.Delay(settings.Interval, stop.Token);
                var snapshot = await sampler.SampleAsync(stop.Token);
                console.Write(TopView.Build(snapshot, await noisiest.ReadAsync("1m", 5, stop.Token)));
                return ExitCodes.Ok;
            }
            await sampler.SampleAsync(stop.Token);
            sampler.Start();
            await RefreshAsync(console, sampler, noisiest, settings.Interval, stop);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task RefreshAsync(IAnsiConsole console, StatusSampler sampler, NoisiestProbe noisiest, TimeSpan interval, CancellationTokenSource stop)
    {
        var live = console.Live(TopView.Build(sampler.Latest, null));
        live.Overflow = VerticalOverflow.Ellipsis;
        live.Cropping = VerticalOverflowCropping.Bottom;
        await live.StartAsync(async context =>
        {
            var next = DateTime.UtcNow;
            while (!stop.IsCancellationRequested)
            {
                if (DateTime.UtcNow >= next)
                {
                    context.UpdateTarget(TopView.Build(sampler.Latest, await noisiest.ReadAsync("1m", 5, stop.Token)));
                    context.Refresh();
                    next = DateTime.UtcNow + interval;
                }
                if (QuitPressed()) await stop.CancelAsync();
                else await Task.Delay(100, stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });
    }

    /// <summary>q (or Q) on a terminal; a command without a terminal on its input only stops on Ctrl-C or SIGTERM.</summary>
    private static bool QuitPressed()
    {
        if (Console.IsInputRedirected) return false;
        while (Console.KeyAvailable)
            if (Console.ReadKey(intercept: true).Key == ConsoleKey.Q) return true;
        return false;
    }
}
