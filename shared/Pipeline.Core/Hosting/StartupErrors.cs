namespace Pipeline.Core.Hosting;

/// <summary>
/// Runs an executable's main body so that bad configuration ends with one clear line and exit code 2,
/// not a stack trace: an operator should read what to fix, not where in the code it was noticed.
/// </summary>
public static class StartupErrors
{
    public const int ConfigurationError = 2;

    public static async Task<int> RunAsync(string program, Func<Task<int>> main)
    {
        try
        {
            return await main();
        }
        catch (OperationCanceledException)
        {
            // Stopped (Ctrl-C, SIGTERM) before it had finished starting: a clean exit.
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidDataException
            or InvalidOperationException { InnerException: FormatException or ArgumentException })
        {
            var reason = ex is ArgumentException or FormatException or InvalidDataException ? ex.Message : ex.InnerException!.Message;
            await Console.Error.WriteLineAsync($"{program}: configuration error: {reason}");
            return ConfigurationError;
        }
    }
}
