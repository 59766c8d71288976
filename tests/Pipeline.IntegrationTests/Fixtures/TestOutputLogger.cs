using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Log lines of in-process components, kept for the failure message of the test that ran them.</summary>
internal sealed class TestOutputLogger<T>(ITestOutputHelper output, string name) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {name} {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " (" + exception.Message + ")")}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; nobody reads this any more.
        }
    }
}
