using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Pipeline.Client.Logging;

/// <summary>
/// Microsoft.Extensions.Logging's way into a <see cref="PipelineClient"/>: every entry becomes an event of kind
/// <c>log</c> with its structured state and scopes as fields (see <see cref="LogRecordWriter"/>). Levels are filtered
/// by the logging configuration as for any provider (its alias is <c>Pipeline</c>). A log call never waits.
/// </summary>
[ProviderAlias("Pipeline")]
public sealed class PipelineLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentDictionary<string, PipelineLogger> _loggers = new(StringComparer.Ordinal);
    private readonly bool _ownsClient;
    private IExternalScopeProvider? _scopes;

    /// <summary>Logs through <paramref name="client"/>; disposing the provider disposes the client when <paramref name="ownsClient"/>.</summary>
    public PipelineLoggerProvider(PipelineClient client, bool ownsClient = false)
    {
        Client = client;
        _ownsClient = ownsClient;
    }

    /// <summary>The client entries go through (its <see cref="PipelineClient.Stats"/> count what was dropped).</summary>
    public PipelineClient Client { get; }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, static (name, provider) => new PipelineLogger(name, provider), this);

    /// <inheritdoc />
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Flushes and stops the client, if the provider owns it.</summary>
    public void Dispose()
    {
        if (_ownsClient) Client.Dispose();
    }

    internal IExternalScopeProvider? Scopes => _scopes;

    private sealed class PipelineLogger(string category, PipelineLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull =>
            provider.Scopes?.Push(state);

        // What reaches the provider is already filtered by the logging configuration.
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.None) return;
            provider.Client.Log(category, logLevel, eventId, state, exception, formatter, provider.Scopes);
        }
    }
}
