using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Pipeline.Client.Logging;

/// <summary>Registration with Microsoft.Extensions.Logging.</summary>
public static class PipelineLoggingExtensions
{
    /// <summary>
    /// Sends the application's logs to the pipeline's edge. One <see cref="PipelineClient"/> is registered as a singleton
    /// (inject it for events and metrics); the host disposes it on shutdown, which flushes what is queued for at most
    /// <see cref="PipelineClientOptions.ShutdownTimeout"/>.
    /// </summary>
    public static ILoggingBuilder AddPipeline(this ILoggingBuilder builder, Action<PipelineClientOptions>? configure = null)
    {
        var options = new PipelineClientOptions();
        configure?.Invoke(options);
        // Wrong settings fail the application's start, not its first log call.
        options.Validate();
        builder.Services.TryAddSingleton(_ => new PipelineClient(options));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, PipelineLoggerProvider>(
            services => new PipelineLoggerProvider(services.GetRequiredService<PipelineClient>())));
        return builder;
    }
}
