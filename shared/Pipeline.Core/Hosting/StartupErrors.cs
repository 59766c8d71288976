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
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidDataException
            or InvalidOperationException { InnerException: FormatException or ArgumentException })
        {
            await Console.Error.WriteLineAsync($"{program}: configuration error: {(ex.InnerException ?? ex).Message}");
            return ConfigurationError;
        }
    }
}
